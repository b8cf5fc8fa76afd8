import { expect } from "chai";

import { enqueueRelay, relayIdFor } from "../../relayer/enqueue-relay.ts";
import { createRelayGateway } from "../../relayer/relay-gateway.ts";
import type { RelayerWorkers } from "../../relayer/start-relayer-workers.ts";
import { createRelayerFixture, REDIS_URL, type RelayerFixture } from "./fixture.ts";

/**
 * What the gateway says of a relay whose record the producer never wrote: the relay's progress lives
 * in its record (which a worker writes when it takes the job), not on the BullMQ job, so before a
 * worker takes it the job can only say "queued", and a job refused unread can only say "dead".
 */
describe("Relay gateway: a relay without its producer's record", function () {
  this.timeout(120_000);
  let f: RelayerFixture;
  let gateway: ReturnType<typeof createRelayGateway>;
  let workers: RelayerWorkers | undefined;

  before(async () => {
    f = await createRelayerFixture("gateway");
    gateway = createRelayGateway({ redisUrl: REDIS_URL, prefix: f.prefix, database: f.database });
  });
  after(async () => {
    await workers?.close();
    await gateway.close();
    await f.close();
  });

  it("is queued until a worker takes it, then followed through its record to confirmed", async () => {
    const request = await f.signTransfer(f.alice, f.bob.address, 3n);
    const before = await f.token.balanceOf(f.bob.address);
    // Straight into the queue, as a producer whose record failed leaves it: a job and no row.
    await enqueueRelay(gateway.queue, { idempotencyKey: "g1.unrecorded", request, requestedBy: "g1" });
    const relayId = relayIdFor("g1.unrecorded");
    expect(await gateway.getRelay(relayId)).to.deep.equal({ relayId, state: "queued" });

    workers = await f.startWorkers({ allowlist: undefined, batchSize: 1 });
    const relay = await f.waitForRelay(relayId);
    expect(relay.status).to.equal("confirmed");
    const summary = await gateway.getRelay(relayId);
    expect(summary?.state).to.equal("confirmed");
    expect(summary?.transactionHash).to.equal(relay.transactionHash);
    expect(await f.token.balanceOf(f.bob.address)).to.equal(before + 3n);
  });

  it("is dead, with the worker's reason, when its job is not a relay's", async () => {
    workers ??= await f.startWorkers({ allowlist: undefined, batchSize: 1 });
    const relayId = relayIdFor("g1.not-a-relay");
    const job = await gateway.queue.transfers.add(
      "token.transferWithAuthorization",
      // Not a relay job (no request): what a foreign or corrupted producer could leave in the queue.
      { relayId, bogus: true } as never,
      { jobId: relayId },
    );
    for (let tries = 0; (await job.getState()) !== "failed"; tries++) {
      if (tries > 200) throw new Error(`the job is ${await job.getState()}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const summary = await gateway.getRelay(relayId);
    expect(summary?.state).to.equal("dead");
    expect(summary?.error).to.match(/^RELAY_JOB_INVALID/);
  });

  it("is unknown when there is neither a record nor a job", async () => {
    expect(await gateway.getRelay(relayIdFor("g1.never"))).to.equal(undefined);
  });
});
