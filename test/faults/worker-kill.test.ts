/**
 * Fault suite (issue 11): the relayer process SIGKILLed twice with relays in flight — transfers on
 * the relayer keys and payouts on the operator key's queue — each time while the other process
 * waits as a standby, so the keys change hands through their leases twice and jobs a killed process
 * held run again (BullMQ counts a job stalled twice past its limit; the sweep then finishes it from
 * the relay's records). Every call to the node goes through a proxy adding latency, so hundreds of
 * relays are really in flight at each kill.
 */
import { expect } from "chai";
import { sql } from "drizzle-orm";

import { createFaultWorld, sized, type FaultWorld } from "./helpers/fault-world.ts";

describe("Fault suite: relayer processes SIGKILLed twice with relays in flight", function () {
  this.timeout(240_000);
  let world: FaultWorld;

  before(async () => {
    world = await createFaultWorld("worker_kill");
    await world.startFollowingIndexer();
  });
  after(async () => world?.close());

  /** Waits until at least `count` relays have an outcome (the kills land mid-stream, not before or after it). */
  const waitForOutcomeCount = async (count: number, boundMs = 60_000) => {
    const until = Date.now() + boundMs;
    for (;;) {
      const [row] = await world.database.query<{ n: string }>(
        sql`SELECT count(*) AS n FROM relays WHERE status IN ('confirmed', 'failed', 'expired', 'cancelled', 'dead')`,
      );
      if (Number(row!.n) >= count) return;
      world.trace(`outcomes ${row!.n}/${count}`);
      if (Date.now() > until)
        throw new Error(`only ${row!.n} relays had an outcome after ${boundMs} ms (waiting for ${count})`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  it("executes every transfer and payout exactly once, with contiguous nonces and the ledger equal to the chain", async () => {
    const env = { RELAYER_JOB_LOCK_MS: "3000", RELAYER_CONCURRENCY: "32" };
    const first = world.spawnWorker(env);
    expect((await first.started).relayers, "the first process leases every key").to.have.length(3);
    world.trace("first started");
    const standbys = [world.spawnWorker(env), world.spawnWorker(env)];
    for (const standby of standbys) expect((await standby.started).relayers, "a standby").to.deep.equal([]);
    world.proxy.setPolicy({ fault: () => "pass", latencyMs: () => 10 + Math.floor(Math.random() * 40) });

    const transfers = sized(120, 600);
    const payouts = sized(6, 30);
    await world.submitTransfers("kill", transfers);
    await world.submitPayouts("kill", payouts);
    const total = transfers + payouts;
    world.trace("submitted");

    await waitForOutcomeCount(Math.floor(total * 0.2));
    await first.kill();
    world.trace("first killed");
    // The standby that took the keys over once their leases expired is killed in turn, mid-stream.
    const heir = async () => {
      for (;;) {
        const found = standbys.find((standby) => /leased (a relayer key|the operator key)/.test(standby.output()));
        if (found) return found;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    const second = await heir();
    await waitForOutcomeCount(Math.floor(total * 0.5));
    await second.kill();
    world.trace("second killed");
    const third = standbys.find((standby) => standby !== second)!;

    const relays = await world.expectInvariants({ boundMs: 120_000 });
    const lost = relays.filter((relay) => relay.status !== "confirmed");
    expect(
      lost.map((relay) => `${relay.relayId} ${relay.status} ${relay.errorCode}: ${relay.errorMessage}`),
      "a worker kill costs no movement",
    ).to.deep.equal([]);
    expect(third.exitCode(), third.output().slice(-2_000)).to.equal(null);
  });
});
