/**
 * The relayer's per-job statements cost the same however long its history is (issue 17). Two
 * defects made them grow with every relay ever recorded:
 * - the group-committed transitions and the job take passed their rows as a JSON row set, which the
 *   planner guesses at 100 rows, so it hash-joined them against whole-table scans of `relays` and
 *   `relayer_transactions`;
 * - the lookup of a relay's transactions went through a GIN index with its default pending list,
 *   which every lookup reads in full until a vacuum merges it — and embedded PGlite never vacuums.
 *
 * With a history of 20,000 relays, each statement is run under EXPLAIN (ANALYZE, BUFFERS): no
 * relayer table may be scanned whole, and the pages the statement touches stay a small constant
 * (a deterministic count, not a timing). Before the fix these statements read hundreds of pages.
 */
import { expect } from "chai";
import { sql, type SQL } from "drizzle-orm";

import { runMigrations } from "../../lib/db/migrate.ts";
import { beginRelaysSql } from "../../relayer/begin-relay.ts";
import { relayerMigrations } from "../../relayer/db/migration-set.ts";
import { recordQueuedRelaysSql } from "../../relayer/record-transition.ts";
import { transitionGroupSql, type PathTransition } from "../../relayer/transition-writer.ts";
import { createTestDatabase, describeEachEngine } from "../helpers/database.ts";
import { nodesOf, pagesOf, planOf } from "../helpers/query-plans.ts";
import { queuedTransferRelay } from "./queued-relay.ts";

const HISTORY = 20_000;
const RELAYER_TABLES = ["relays", "relayer_transactions", "relay_transitions"];
// Index descents and the rows themselves: a few pages per relay looked up, for the handful here
// (a scan of the whole history reads hundreds).
const MAX_PAGES = 60;

const take = (relayId: string) => queuedTransferRelay(relayId, "plans", `0x${"1".repeat(64)}`);

const move = (n: number): PathTransition => ({
  relayId: `relay-h${n}`,
  statuses: ["mined", "confirmed"],
  transactionHash: `0x${n.toString(16).padStart(64, "0")}`,
  blockNumber: 7n,
  blockHash: `0x${"2".repeat(64)}`,
  carrierStatus: "mined",
});

describeEachEngine("relayer statements on a long history", (engine) => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;

  before(async function () {
    this.timeout(120_000);
    database = await createTestDatabase(engine, "relayer_plans");
    await runMigrations(database, [relayerMigrations]);
    // A relayer that has sent HISTORY relays, one transaction each, through the same tables.
    await database.query(sql`
      INSERT INTO relays (relay_id, kind, status, requested_by, request, created_at, updated_at, transaction_hash)
      SELECT 'relay-h' || g, 'token.transferWithAuthorization', 'confirmed', 'plans', '{}'::jsonb, now(), now(),
             '0x' || lpad(to_hex(g), 64, '0')
      FROM generate_series(1, ${HISTORY}) g`);
    await database.query(sql`
      INSERT INTO relayer_transactions (relayer, nonce, hash, raw, relay_ids, max_fee_per_gas, max_priority_fee_per_gas, status)
      SELECT '0x90F79bf6EB2c4f870365E785982E1f101E93b906', g, '0x' || lpad(to_hex(g), 64, '0'), '0x02', jsonb_build_array('relay-h' || g),
             1, 1, 'mined'
      FROM generate_series(1, ${HISTORY}) g`);
    await database.query(sql`
      INSERT INTO relay_transitions (relay_id, status, at)
      SELECT 'relay-h' || g, s, now() FROM generate_series(1, ${HISTORY}) g, unnest(ARRAY['queued', 'confirmed']) s`);
  });
  after(async () => {
    await database?.drop();
  });

  /** Runs `statement` under EXPLAIN (ANALYZE, BUFFERS) and checks how it reached the relayer's tables. */
  async function expectIndexLookups(statement: SQL) {
    const [row] = await database.query<{ "QUERY PLAN": unknown }>(
      sql`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${statement}`,
    );
    const scans = nodesOf(planOf(row)).filter((node) => RELAYER_TABLES.includes(node["Relation Name"] ?? ""));
    expect(scans.length, "the statement reads a relayer table").to.be.greaterThan(0);
    const whole = scans.filter((node) => node["Node Type"] === "Seq Scan").map((node) => node["Relation Name"]);
    expect(whole, "relayer tables scanned whole").to.deep.equal([]);
    // The reads of relations only: a parent's buffers include its children's, and a ModifyTable's
    // include the index entries it writes.
    const pages = scans
      .filter((node) => node["Node Type"] !== "ModifyTable")
      .reduce((sum, node) => sum + pagesOf(node), 0);
    expect(pages, `pages read by the scans of a ${HISTORY}-relay history`).to.be.at.most(MAX_PAGES);
  }

  it("a worker's take (record if unseen, read the relay and its transactions) looks each relay up by index", async () => {
    await expectIndexLookups(beginRelaysSql([take("relay-h123"), take("relay-h9876"), take("relay-new-1")]));
  });

  it("a group of transitions moves its relays and their carriers by index lookups", async () => {
    await expectIndexLookups(transitionGroupSql([move(55), move(5_555), move(15_555)]));
  });

  it("the producer's record of a queued relay probes only its own key", async () => {
    await expectIndexLookups(sql`WITH ${recordQueuedRelaysSql([take("relay-new-2")])} SELECT count(*) FROM inserted`);
  });
});
