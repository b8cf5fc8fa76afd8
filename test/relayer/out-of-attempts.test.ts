/**
 * Issue 11, defect 1: a relay whose BullMQ job uses every attempt must not stay `queued` for ever.
 * With nothing signed for it, it ends `dead` with the reason and appears in the dead-letter view;
 * a job that BullMQ fails on its own (the stalled-job limit, a job removed from Redis) is swept
 * the same way.
 */
import { expect } from "chai";

import { enqueueRelay } from "../../relayer/enqueue-relay.ts";
import { getRelay } from "../../relayer/get-relay.ts";
import { deadLetterStatuses, listRelays } from "../../relayer/list-relays.ts";
import { createRelayQueue, type RelayQueue } from "../../relayer/queue.ts";
import { ensureRelayRecorded } from "../../relayer/record-transition.ts";
import { cancelRelay } from "../../relayer/cancel-relay.ts";
import { deadLetterActions, retryRelay } from "../../relayer/dead-letters.ts";
import { sweepRelays } from "../../relayer/watch/sweep-relays.ts";
import type { RelayerWorkers } from "../../relayer/start-relayer-workers.ts";
import { serveJsonRpc, type JsonRpcServer } from "../helpers/json-rpc-server.ts";
import { startJsonRpcProxy, type JsonRpcProxy } from "../helpers/json-rpc-proxy.ts";
import { createRelayerFixture, logger, REDIS_URL, type RelayerFixture } from "./fixture.ts";

describe("A relay whose job runs out of attempts", function () {
  this.timeout(60_000);
  let f: RelayerFixture;
  let rpc: JsonRpcServer;
  let proxy: JsonRpcProxy;
  let workers: RelayerWorkers;
  let producer: RelayQueue;

  before(async () => {
    f = await createRelayerFixture("attempts");
    rpc = await serveJsonRpc(f.chain.provider);
    proxy = await startJsonRpcProxy(rpc.url);
    workers = await f.startWorkers({}, f.database, f.clientVia(proxy.url));
    // Three quick attempts instead of eight over a minute: the same path, sooner.
    producer = createRelayQueue({
      redis: REDIS_URL,
      prefix: f.prefix,
      jobOptions: { attempts: 3, backoff: { type: "fixed", delay: 50 } },
    });
  });
  after(async () => {
    await producer.close();
    await workers.close();
    await proxy.close();
    await rpc.close();
    await f.close();
  });

  it("ends dead with RELAY_RETRIES_EXHAUSTED and its last error when the node refuses every broadcast, and nothing moves", async () => {
    proxy.setPolicy({ fault: ({ method }) => (method === "eth_sendRawTransaction" ? "error" : "pass") });
    const request = await f.signTransfer(f.alice, f.bob.address, 9n);
    const bobBefore = await f.token.balanceOf(f.bob.address);
    const { relayId } = await enqueueRelay(producer, {
      idempotencyKey: "attempts.refused",
      request,
      requestedBy: "u1",
    });
    const job = (await producer.transfers.getJob(relayId))!;
    // Until BullMQ has given up on the job (its attempts used).
    while ((await job.getState()) !== "failed") await new Promise((resolve) => setTimeout(resolve, 50));
    const relay = (await getRelay(f.database, relayId))!;
    expect(relay.status, JSON.stringify(relay.transitions)).to.equal("dead");
    expect(relay.errorCode).to.equal("RELAY_RETRIES_EXHAUSTED");
    expect(relay.errorMessage).to.contain("injected fault");
    expect(relay.transactionHash).to.equal(null);
    expect(proxy.counts().error).to.be.greaterThanOrEqual(3);
    const dead = await listRelays(f.database, { status: deadLetterStatuses });
    expect(dead.relays.map((r) => r.relayId)).to.include(relayId);

    proxy.setPolicy({ fault: () => "pass" });
    await f.chain.testClient.mine({ blocks: 3 });
    expect(await f.token.balanceOf(f.bob.address)).to.equal(bobBefore);
    expect(await f.token.authorizationState(request.from, request.nonce)).to.equal(false);
  });

  it("lets an operator retry a dead letter whose authorization is unused: it executes once, and a second retry is refused", async () => {
    proxy.setPolicy({ fault: ({ method }) => (method === "eth_sendRawTransaction" ? "error" : "pass") });
    const request = await f.signTransfer(f.alice, f.bob.address, 11n);
    const bobBefore = await f.token.balanceOf(f.bob.address);
    const { relayId } = await enqueueRelay(producer, {
      idempotencyKey: "attempts.retried",
      request,
      requestedBy: "u1",
    });
    const dead = await f.waitForRelay(relayId, ["dead"]);
    const chain = { publicClient: f.chain.publicClient, contracts: f.contracts };
    expect((await deadLetterActions(f.database, chain, [dead])).get(relayId)).to.deep.equal({
      retry: { allowed: true },
      cancel: { allowed: true },
    });

    proxy.setPolicy({ fault: () => "pass" });
    await retryRelay(producer, f.database, chain, relayId, "operator-1");
    const confirmed = await f.waitForRelay(relayId, ["confirmed", "failed", "dead"]);
    expect(confirmed.status, JSON.stringify(confirmed.transitions)).to.equal("confirmed");
    expect(
      confirmed.transitions.some((t) => (t.detail as { retriedBy?: string } | null)?.retriedBy === "operator-1"),
    ).to.equal(true);
    expect(await f.token.balanceOf(f.bob.address)).to.equal(bobBefore + 11n);
    let refused: unknown;
    await retryRelay(producer, f.database, chain, relayId, "operator-1").catch((error: unknown) => (refused = error));
    expect(refused).to.have.property("code", "RELAY_NOT_RETRYABLE");
    expect(await f.token.balanceOf(f.bob.address)).to.equal(bobBefore + 11n);
  });

  it("lets an operator cancel a dead letter for good: it is cancelled, cannot be retried, and nothing moves", async () => {
    proxy.setPolicy({ fault: ({ method }) => (method === "eth_sendRawTransaction" ? "error" : "pass") });
    const request = await f.signTransfer(f.alice, f.bob.address, 13n);
    const bobBefore = await f.token.balanceOf(f.bob.address);
    const { relayId } = await enqueueRelay(producer, {
      idempotencyKey: "attempts.cancelled",
      request,
      requestedBy: "u1",
    });
    await f.waitForRelay(relayId, ["dead"]);
    proxy.setPolicy({ fault: () => "pass" });
    await cancelRelay(producer, f.database, relayId, "operator-1");
    const relay = (await getRelay(f.database, relayId))!;
    expect(relay).to.include({ status: "cancelled", errorCode: "RELAY_CANCELLED" });
    let refused: unknown;
    const chain = { publicClient: f.chain.publicClient, contracts: f.contracts };
    await retryRelay(producer, f.database, chain, relayId, "operator-1").catch((error: unknown) => (refused = error));
    expect(refused).to.have.property("code", "RELAY_NOT_RETRYABLE");
    await f.chain.testClient.mine({ blocks: 3 });
    expect(await f.token.balanceOf(f.bob.address)).to.equal(bobBefore);
    expect(await f.token.authorizationState(request.from, request.nonce)).to.equal(false);
  });

  it("sweeps a relay whose job ended outside the handler with nothing sent (removed from Redis) to dead", async () => {
    // A relay recorded as queued whose job no longer exists; a job failed by the stalled-job limit takes the same path.
    proxy.setPolicy({ fault: () => "pass" });
    const request = await f.signTransfer(f.alice, f.bob.address, 4n);
    const paused = createRelayQueue({ redis: REDIS_URL, prefix: `${f.prefix}-paused` });
    try {
      const { relayId, job: data } = await enqueueRelay(paused, {
        idempotencyKey: "attempts.stalled",
        request,
        requestedBy: "u1",
      });
      await paused.transfers.obliterate({ force: true });
      await ensureRelayRecorded(f.database, data, new Date(Date.now() - 120_000));
      // The workers' watcher sweeps too (every 200 ms here): the two sweepers race for the relay,
      // and whichever comes first records it dead — once (the transition is a check-and-set).
      const [swept] = await Promise.all([
        sweepRelays({ database: f.database, queue: producer, logger, olderThanMs: 60_000 }),
        workers.watch(),
      ]);
      const relay = (await getRelay(f.database, relayId))!;
      expect(relay, JSON.stringify(relay.transitions)).to.include({ status: "dead", errorCode: "RELAY_JOB_ENDED" });
      expect(relay.errorMessage).to.contain("no longer in the queue");
      expect(relay.transitions.map((t) => t.status)).to.deep.equal(["queued", "dead"]);
      expect(swept.revived).to.not.include(relayId);
    } finally {
      await paused.close();
    }
  });
});
