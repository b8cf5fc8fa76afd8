import { expect } from "chai";
import {
  encodeAbiParameters,
  encodeEventTopics,
  encodeFunctionData,
  toHex,
  type Address,
  type Hex,
  type Log,
} from "viem";

import { readBatchOutcome } from "../../relayer/batching/read-batch-outcome.ts";
import { batchGasLimit } from "../../relayer/batching/send-transfer-batch.ts";
import { settlementAbi } from "../../lib/chain/abis/settlement.ts";
import { stablecoinAbi } from "../../lib/chain/abis/stablecoin.ts";

const SETTLEMENT: Address = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const PAYER: Address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const nonce = (n: number): Hex => toHex(n, { size: 32 });

/** A Settlement log as a receipt holds it. */
function settlementLog(
  eventName: "AuthorizationSettled" | "AuthorizationFailed" | "AuthorizationsSkipped",
  args: Record<string, unknown>,
): Log {
  const topics = encodeEventTopics({ abi: settlementAbi, eventName, args } as Parameters<typeof encodeEventTopics>[0]);
  const data =
    eventName === "AuthorizationFailed"
      ? encodeAbiParameters([{ type: "bytes" }], [args.reason as Hex])
      : eventName === "AuthorizationsSkipped"
        ? encodeAbiParameters(
            [{ type: "uint256" }, { type: "uint256" }],
            [args.firstIndex as bigint, args.count as bigint],
          )
        : "0x";
  return { address: SETTLEMENT, topics, data } as unknown as Log;
}

const logs = [
  settlementLog("AuthorizationSettled", { index: 0n, from: PAYER, nonce: nonce(0) }),
  settlementLog("AuthorizationFailed", { index: 1n, from: PAYER, nonce: nonce(1), reason: "0xdeadbeef" }),
  settlementLog("AuthorizationsSkipped", { firstIndex: 2n, count: 3n }),
];

describe("readBatchOutcome", () => {
  it("reads an item's AuthorizationSettled or AuthorizationFailed event", () => {
    expect(readBatchOutcome(logs, SETTLEMENT, 0, { from: PAYER, nonce: nonce(0) })).to.deep.equal({ type: "settled" });
    expect(readBatchOutcome(logs, SETTLEMENT, 1, { from: PAYER, nonce: nonce(1) })).to.deep.equal({
      type: "failed",
      reason: "0xdeadbeef",
    });
  });

  it("reads an item inside the AuthorizationsSkipped range as skipped: the batch ran short of gas before it", () => {
    for (const index of [2, 3, 4])
      expect(readBatchOutcome(logs, SETTLEMENT, index, { from: PAYER, nonce: nonce(index) })).to.deep.equal({
        type: "skipped",
      });
  });

  it("throws RelayBatchOutcomeUnknownError for an item past the range, or an event naming another nonce", () => {
    expect(() => readBatchOutcome(logs, SETTLEMENT, 5, { from: PAYER, nonce: nonce(5) }))
      .to.throw()
      .with.property("code", "RELAY_BATCH_OUTCOME_UNKNOWN");
    expect(() => readBatchOutcome(logs, SETTLEMENT, 0, { from: PAYER, nonce: nonce(9) }))
      .to.throw()
      .with.property("code", "RELAY_BATCH_OUTCOME_UNKNOWN");
  });
});

describe("batchGasLimit", () => {
  const signature = toHex(new Uint8Array(65).fill(1));
  const data = encodeFunctionData({ abi: stablecoinAbi, functionName: "decimals" });
  const required = 218_000n;

  it("gives each item the Settlement's requirement plus its signature's length, above a low estimate", () => {
    const gas = batchGasLimit(100_000n, data, [signature, signature, signature], required);
    expect(gas).to.be.at.least(3n * (required + 65n) + 21_000n);
    // The transaction's intrinsic cost and the call's overhead, no more.
    expect(gas).to.be.lessThan(3n * (required + 65n) + 21_000n + 50_000n);
  });

  it("keeps 1.2x an estimate above the per-item budget", () => {
    expect(batchGasLimit(10_000_000n, data, [signature], required)).to.equal(12_000_000n);
  });

  it("never asks for more than a transaction may carry (2^24, EIP-7825): the tail would be skipped, not reverted", () => {
    const signatures = Array.from({ length: 200 }, () => signature);
    expect(batchGasLimit(9_000_000n, data, signatures, required)).to.equal(16_777_216n);
  });
});
