import { expect } from "chai";
import { encodeFunctionData, toHex } from "viem";

import { stablecoinAbi } from "../../lib/chain/abis/stablecoin.ts";
import { enqueueRelay, relayIdFor } from "../../relayer/enqueue-relay.ts";
import { deadLetterStatuses, listRelays } from "../../relayer/list-relays.ts";
import type { RelayerWorkers } from "../../relayer/start-relayer-workers.ts";
import { createRelayerFixture, type RelayerFixture } from "./fixture.ts";

describe("Relay workers", function () {
  this.timeout(120_000);
  let f: RelayerFixture;
  let workers: RelayerWorkers;

  before(async () => {
    f = await createRelayerFixture("worker");
    workers = await f.startWorkers({ allowlist: undefined });
  });
  after(async () => {
    await workers.close();
    await f.close();
  });

  it("relays a signed transfer through queued, signed, submitted, mined and confirmed", async () => {
    const request = await f.signTransfer(f.alice, f.bob.address, 1_000n);
    const before = await f.token.balanceOf(f.bob.address);
    const { relayId, status } = await enqueueRelay(workers.queue, {
      idempotencyKey: "u1.first",
      request,
      requestedBy: "u1",
    });
    expect(relayId)
      .to.equal(relayIdFor("u1.first"))
      .and.to.match(/^relay-[0-9a-f]{32}$/);
    expect(status).to.equal("queued");
    const relay = await f.waitForRelay(relayId);
    expect(relay.status).to.equal("confirmed");
    expect(relay.transitions.map((t) => t.status)).to.deep.equal([
      "queued",
      "signed",
      "submitted",
      "mined",
      "confirmed",
    ]);
    expect(await f.token.balanceOf(f.bob.address)).to.equal(before + 1_000n);
  });

  it("queues a request retried with the same idempotency key once", async () => {
    const request = await f.signTransfer(f.alice, f.bob.address, 7n);
    const before = await f.token.balanceOf(f.bob.address);
    const first = await enqueueRelay(workers.queue, { idempotencyKey: "u1.twice", request, requestedBy: "u1" });
    const second = await enqueueRelay(workers.queue, { idempotencyKey: "u1.twice", request, requestedBy: "u1" });
    expect(second.relayId).to.equal(first.relayId);
    await f.waitForRelay(first.relayId);
    expect(await f.token.balanceOf(f.bob.address)).to.equal(before + 7n);
  });

  it("fails a reused authorisation with the decoded StablecoinAuthorizationUsed and lists it as a dead letter", async () => {
    const nonce = toHex(Buffer.alloc(32, 7));
    const request = await f.signTransfer(f.alice, f.bob.address, 5n, nonce);
    await f.waitForRelay(
      (await enqueueRelay(workers.queue, { idempotencyKey: "u1.reuse-a", request, requestedBy: "u1" })).relayId,
    );
    const { relayId } = await enqueueRelay(workers.queue, { idempotencyKey: "u1.reuse-b", request, requestedBy: "u1" });
    const relay = await f.waitForRelay(relayId);
    expect(relay.status).to.equal("failed");
    expect(relay.errorCode).to.equal("RELAY_REVERTED");
    expect(relay.errorMessage).to.contain(`StablecoinAuthorizationUsed(${f.alice.address}, ${nonce})`);
    const dead = await listRelays(f.database, { status: deadLetterStatuses });
    expect(dead.relays.map((r) => r.relayId)).to.include(relayId);
  });

  it("expires a relay whose deadline passed before it was sent, sending nothing", async () => {
    const request = await f.signTransfer(f.alice, f.bob.address, 3n);
    const before = await f.token.balanceOf(f.bob.address);
    const { relayId } = await enqueueRelay(workers.queue, {
      idempotencyKey: "u1.late",
      request,
      requestedBy: "u1",
      deadline: new Date(Date.now() - 1_000),
    });
    const relay = await f.waitForRelay(relayId);
    expect(relay.status).to.equal("expired");
    expect(relay.errorCode).to.equal("RELAY_EXPIRED");
    expect(relay.transactionHash).to.equal(null);
    expect(await f.token.balanceOf(f.bob.address)).to.equal(before);
  });
});

describe("Relay policies", function () {
  this.timeout(120_000);
  let f: RelayerFixture;
  let workers: RelayerWorkers;

  before(async () => {
    f = await createRelayerFixture("policy");
    workers = await f.startWorkers({ allowlist: [f.bob.address] });
  });
  after(async () => {
    await workers.close();
    await f.close();
  });

  it("refuses a forwarded call whose inner recipient is not allowed although `to` is the forwarder", async () => {
    const data = encodeFunctionData({ abi: stablecoinAbi, functionName: "transfer", args: [f.carol.address, 1n] });
    const request = {
      kind: "forwarder.execute" as const,
      request: {
        from: f.alice.address,
        to: f.contracts.stablecoin,
        value: "0",
        gas: "100000",
        deadline: 2 ** 40,
        data,
        signature: toHex(Buffer.alloc(65, 1)),
      },
    };
    const relay = await f.waitForRelay(
      (await enqueueRelay(workers.queue, { idempotencyKey: "p.forward", request, requestedBy: "u1" })).relayId,
    );
    expect(relay.status).to.equal("failed");
    expect(relay.errorCode).to.equal("RELAY_POLICY_RECIPIENT_NOT_ALLOWED");
    expect(relay.errorMessage).to.contain(f.carol.address);
  });

  it("refuses an EIP-3009 transfer to a recipient not on the allowlist", async () => {
    const request = await f.signTransfer(f.alice, f.carol.address, 1n);
    const relay = await f.waitForRelay(
      (await enqueueRelay(workers.queue, { idempotencyKey: "p.carol", request, requestedBy: "u1" })).relayId,
    );
    expect(relay.errorCode).to.equal("RELAY_POLICY_RECIPIENT_NOT_ALLOWED");
  });

  it("sends an EIP-3009 transfer to an allowed recipient", async () => {
    const request = await f.signTransfer(f.alice, f.bob.address, 1n);
    const relay = await f.waitForRelay(
      (await enqueueRelay(workers.queue, { idempotencyKey: "p.bob", request, requestedBy: "u1" })).relayId,
    );
    expect(relay.status).to.equal("confirmed");
  });
});
