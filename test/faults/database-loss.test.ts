/**
 * Fault suite (issue 11, defects 4 and 7 under load): PostgreSQL terminates every session of the
 * workers and the indexer (pg_terminate_backend, the indexer's advisory-lock session included)
 * three times while relays are in flight. The workers' pools and the indexer reconnect; every
 * relay lands exactly once and the ledger equals the chain.
 */
import { expect } from "chai";
import { sql } from "drizzle-orm";

import { createFaultWorld, sized, type FaultWorld } from "./helpers/fault-world.ts";

describe("Fault suite: PostgreSQL terminates the workers' and the indexer's sessions mid-run", function () {
  this.timeout(180_000);
  let world: FaultWorld;

  before(async () => {
    world = await createFaultWorld("database_loss");
    await world.startFollowingIndexer();
    await world.startWorkers({ concurrency: 16 });
    world.proxy.setPolicy({ fault: () => "pass", latencyMs: () => 5 + Math.floor(Math.random() * 20) });
  });
  after(async () => world?.close());

  it("lands every relay exactly once across three rounds of terminated sessions", async () => {
    const size = sized(30, 150);
    await world.submitTransfers("db", size);
    let terminated = 0;
    for (let round = 0; round < 3; round++) {
      for (const until = Date.now() + 60_000; ;) {
        const [row] = await world.database
          .query<{ n: string }>(sql`SELECT count(*) AS n FROM relays WHERE status = 'confirmed'`)
          .catch(() => [{ n: "0" }]);
        if (Number(row!.n) >= Math.floor((size * (round + 1)) / 4)) break;
        if (Date.now() > until) throw new Error(`round ${round}: relays stopped confirming (${row!.n})`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      terminated += await world.terminateBackends();
    }
    expect(terminated, "sessions terminated").to.be.greaterThan(0);
    const relays = await world.expectInvariants({ boundMs: 120_000 });
    expect(
      relays
        .filter((relay) => relay.status !== "confirmed")
        .map((relay) => `${relay.relayId} ${relay.status} ${relay.errorCode}`),
      "a lost database session costs no movement",
    ).to.deep.equal([]);
  });
});
