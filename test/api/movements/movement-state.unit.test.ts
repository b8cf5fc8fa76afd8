import { expect } from "chai";

import { movementState, settledStates } from "../../../api/movements/movement-state.ts";
import type { RelaySummary } from "../../../relayer/index.ts";

const relay = (state: RelaySummary["state"], blockNumber?: bigint): RelaySummary => ({
  relayId: "relay-x",
  state,
  ...(blockNumber === undefined ? {} : { blockNumber }),
});

describe("movementState (one rule for every view)", () => {
  it("keeps the door's own states: pending while recording, rejected when the queue refused", () => {
    expect(movementState("pending", relay("confirmed", 5n), 10n)).to.equal("pending");
    expect(movementState("rejected", undefined, 10n)).to.equal("rejected");
  });

  it("is queued until a relay is recorded, then follows the relay", () => {
    expect(movementState("queued", undefined, 10n)).to.equal("queued");
    expect(movementState("queued", relay("queued"), 10n)).to.equal("queued");
    expect(movementState("queued", relay("submitted"), 10n)).to.equal("submitted");
    expect(movementState("queued", relay("failed"), 10n)).to.equal("failed");
    expect(movementState("queued", relay("dead"), 10n)).to.equal("dead");
  });

  it("is confirmed until the ledger's indexed head reaches the relay's block, then indexed", () => {
    expect(movementState("queued", relay("confirmed", 11n), 10n)).to.equal("confirmed");
    expect(movementState("queued", relay("confirmed", 10n), 10n)).to.equal("indexed");
    expect(movementState("queued", relay("confirmed", 3n), 10n)).to.equal("indexed");
    // No indexed head yet, or a relay whose block is unknown: not in the ledger.
    expect(movementState("queued", relay("confirmed", 3n), undefined)).to.equal("confirmed");
    expect(movementState("queued", relay("confirmed"), 10n)).to.equal("confirmed");
  });

  it("honours the final states rows written by the earlier rule carry", () => {
    for (const status of ["failed", "dead", "indexed"] as const)
      expect(movementState(status, relay("queued"), 0n)).to.equal(status);
  });

  it("names exactly the states after which nothing changes as settled", () => {
    expect([...settledStates].sort()).to.deep.equal(["dead", "declined", "denied", "failed", "indexed", "rejected"]);
  });

  it("keeps the risk engine's held, denied and declined as recorded, whatever a relay says", () => {
    for (const status of ["held", "denied", "declined"] as const)
      expect(movementState(status, relay("confirmed", 3n), 10n)).to.equal(status);
  });
});
