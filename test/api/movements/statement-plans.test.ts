/**
 * The reads of money_movements that run on every movement or balance read, against a sender and a wallet
 * with a long history (issue 17):
 * - the money door's read under the sender's lock (doorReadQuery, api/movements/submit-money-movement.ts):
 *   the movement already recorded under the relay id, the user's standing and what the user's unfinished
 *   movements from the sender reserve, in one statement;
 * - a contract's reservation (contractReservationQuery, available-balance.ts: a capture's, a payout's);
 * - the wallet's movements still pending, listed with its balances (pendingMovementsQuery);
 * - the risk engine's facts of the movement (riskFactsQuery, api/risk/assess-movement.ts), which read the
 *   user's history too (its last movements, whether it paid the recipient before): a guard, not a defect.
 *
 * The defect: each found its few unfinished rows by reading every movement of the sender or the wallet
 * (through the (from_address, nonce) or the (wallet_id, seq) index, or the whole table) — and a merchant's,
 * an escrow's or a treasury's address makes hundreds of thousands. Each is run under EXPLAIN (ANALYZE,
 * BUFFERS), on both engines and with both kinds of plan PostgreSQL may run a named statement with (custom,
 * and the generic plan it caches after a few runs): it may scan no table whole and touch only a small
 * constant of pages (a deterministic count, not a timing). Before migration 0010's partial indexes they
 * touched hundreds.
 */
import { randomUUID } from "node:crypto";

import { expect } from "chai";
import { sql, type SQL } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import { Placeholder } from "drizzle-orm/sql";
import { getAddress, type Address } from "viem";

import { apiMigrations } from "../../../api/db/migration-set.ts";
import { apiUsers, moneyMovements } from "../../../api/db/schema.ts";
import { contractReservationQuery } from "../../../api/movements/available-balance.ts";
import { pendingMovementsQuery } from "../../../api/movements/pending-movements.ts";
import { doorReadQuery } from "../../../api/movements/submit-money-movement.ts";
import { riskFactsQuery } from "../../../api/risk/assess-movement.ts";
import { runMigrations } from "../../../lib/db/migrate.ts";
import { createTestDatabase, describeEachEngine } from "../../helpers/database.ts";
import { nodesOf, pagesOf, planOf, type PlanNode } from "../../helpers/query-plans.ts";

const HISTORY = 20_000;
const OTHERS_UNFINISHED = 5_000;
// Index descents and the few rows read: a handful of pages (the whole history is hundreds).
const MAX_PAGES = 40;
const SENDER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const OTHER_SENDER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";

/** A SQL literal of a test's own value (uuids, addresses, digits). */
const literal = (value: unknown) => `'${String(value).replaceAll("'", "''")}'`;

describeEachEngine("The money door's reads on a long history", (engine) => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  const userId = randomUUID();
  const walletId = randomUUID();
  const otherUserId = randomUUID();
  const decidedRelayId = "relay-being-decided";

  const movement = (status: string, amount: bigint, extra: Partial<typeof moneyMovements.$inferInsert> = {}) => ({
    id: randomUUID(),
    userId,
    kind: "transfer",
    from: SENDER,
    to: OTHER_SENDER,
    token: "0x" + "3".repeat(40),
    amount: amount.toString(),
    nonce: randomUUID(),
    status,
    relayId: `relay-${randomUUID()}`,
    walletId,
    ...extra,
  });

  before(async function () {
    this.timeout(120_000);
    database = await createTestDatabase(engine, "door_plans");
    await runMigrations(database, [apiMigrations]);
    await database.db.insert(apiUsers).values([
      { id: userId, role: "user", name: "merchant", tier: "verified", frozen: true },
      { id: otherUserId, role: "user", name: "other", tier: "basic" },
    ]);
    // A sender that has made HISTORY movements, all finished one way or another.
    await database.query(sql`
      INSERT INTO money_movements (id, user_id, wallet_id, kind, from_address, to_address, token, amount, nonce, status, relay_id)
      SELECT gen_random_uuid(), ${userId}, ${walletId}, 'transfer', ${SENDER}, ${OTHER_SENDER}, ${"0x" + "3".repeat(40)},
             1000, 'n' || g, (ARRAY['queued', 'confirmed', 'failed', 'denied'])[1 + g % 4], 'relay-h' || g
      FROM generate_series(1, ${HISTORY}) g`);
    // The platform's other unfinished movements: held for review, of other users' wallets and senders.
    await database.query(sql`
      INSERT INTO money_movements (id, user_id, wallet_id, kind, from_address, to_address, token, amount, nonce, status, relay_id)
      SELECT gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'transfer', '0x' || lpad(to_hex(g), 40, '0'),
             ${OTHER_SENDER}, ${"0x" + "3".repeat(40)}, 5, 'o' || g, 'held', 'relay-o' || g
      FROM generate_series(1, ${OTHERS_UNFINISHED}) g`);
    await database.db.insert(moneyMovements).values([
      // What reserves: the user's unfinished movements from the sender…
      movement("pending", 7n),
      movement("held", 11n),
      movement("pending", 10n ** 30n),
      // …not the movement being decided (a retry), nor another user's, nor another sender's.
      movement("pending", 1_000_000n, { relayId: decidedRelayId }),
      movement("pending", 2_000_000n, { userId: otherUserId, walletId: randomUUID() }),
      movement("held", 3_000_000n, { from: OTHER_SENDER, walletId: randomUUID() }),
    ]);
    await database.query(sql`ANALYZE money_movements`);
  });
  after(async () => {
    await database?.drop();
  });

  const values = (relayId: string, user = userId) => ({ relayId, userId: user, from: SENDER });

  it("answers the movement of the relay id, the user's standing and the other unfinished movements' sum", async () => {
    const [retry] = await doorReadQuery(database.db).execute(values(decidedRelayId));
    expect(retry!.movement?.relayId).to.equal(decidedRelayId);
    expect(retry!.movement?.amount).to.equal("1000000");
    expect([retry!.frozen, retry!.tier]).to.deep.equal([true, "verified"]);
    expect(retry!.unfinished).to.equal((7n + 11n + 10n ** 30n).toString());

    // A first submission: no movement yet, and the one under another relay id now reserves too.
    const [first] = await doorReadQuery(database.db).execute(values("relay-new"));
    expect(first!.movement).to.equal(null);
    expect(first!.unfinished).to.equal((7n + 11n + 10n ** 30n + 1_000_000n).toString());

    // Nothing found at all still answers one row.
    const rows = await doorReadQuery(database.db).execute(values("relay-new", randomUUID()));
    expect(rows).to.have.length(1);
    expect(rows[0]).to.deep.include({ movement: null, frozen: null, tier: null, unfinished: null });
  });

  /**
   * `statement` under EXPLAIN (ANALYZE, BUFFERS) as a prepared statement: PREPAREd from the text drizzle
   * sends, then EXECUTEd with its parameters (`given` for its placeholders), in one session with
   * `planCacheMode` for its plan.
   */
  async function preparedPlan(
    statement: { toSQL: () => { sql: string; params: unknown[] } } | SQL,
    planCacheMode: "force_custom_plan" | "force_generic_plan",
    given: Record<string, unknown> = {},
  ) {
    const query = "toSQL" in statement ? statement.toSQL() : new PgDialect().sqlToQuery(statement);
    const args = query.params.map((param) => literal(param instanceof Placeholder ? given[param.name] : param));
    return database.transaction(async (tx) => {
      const rows = async (statement: SQL) => {
        const result = (await tx.execute(statement)) as unknown as { rows: Record<string, unknown>[] };
        return result.rows;
      };
      await rows(sql.raw(`SET LOCAL plan_cache_mode = ${planCacheMode}`));
      await rows(sql.raw(`PREPARE door_read AS ${query.sql}`));
      try {
        const [row] = await rows(
          sql.raw(
            `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE door_read${args.length > 0 ? `(${args.join(", ")})` : ""}`,
          ),
        );
        return planOf(row);
      } finally {
        await rows(sql.raw("DEALLOCATE door_read"));
      }
    });
  }

  /** Holds a plan to index reads only: no money_movements scan of the whole table, a constant few pages. */
  function expectConstantReads(plan: PlanNode) {
    const scans = nodesOf(plan).filter((node) => node["Relation Name"] === "money_movements");
    // Said when an expectation fails: how each scan reached the table, and what it read.
    const how = scans
      .map(
        (node) =>
          `${node["Node Type"]} ${node["Index Name"] ?? ""} ${pagesOf(node)} pages (${node["Index Cond"] ?? ""}) (${node.Filter ?? ""})`,
      )
      .join("; ");
    expect(scans.length, "the statement reads money_movements").to.be.greaterThan(0);
    const whole = scans.filter((node) => node["Node Type"] === "Seq Scan" && pagesOf(node) > MAX_PAGES);
    expect(whole.length, `money_movements scanned whole (${how})`).to.equal(0);
    const pages = scans.reduce((sum, node) => sum + pagesOf(node), 0);
    expect(pages, `pages read by the scans of a ${HISTORY}-movement history (${how})`).to.be.at.most(MAX_PAGES);
  }

  // A contract's funds (a capture's, a payout's): the sender is the escrow or the settlement, whose history
  // holds every user's movements; two of the history's queued relays (relay-h4, relay-h8) are not mined.
  const contractCase = () =>
    contractReservationQuery(database.db, {
      userId,
      from: SENDER,
      exceptId: randomUUID(),
      unmined: ["relay-h4", "relay-h8", "relay-h5"],
    });

  it("sums a contract's reservation: the user's unfinished movements and the queued ones of unmined relays", async () => {
    const [row] = await contractCase();
    // relay-h5 is confirmed: a relay the relayer still lists is counted only while its movement is queued.
    expect(row!.total).to.equal((7n + 11n + 10n ** 30n + 1_000_000n + 2n * 1000n).toString());
  });

  // The wallet's owner has two relays open (relay-h4 and relay-h8 of its history, queued).
  const pendingCase = () => pendingMovementsQuery(database.db, walletId, ["relay-h4", "relay-h8"]);

  it("lists the wallet's movements still pending and those of its open relays, newest first", async () => {
    const rows = (await pendingCase()).filter((row) => row.walletId === walletId);
    expect(rows.map((row) => [row.status, row.amount])).to.deep.equal([
      ["pending", "1000000"],
      ["pending", (10n ** 30n).toString()],
      ["pending", "7"],
      ["queued", "1000"],
      ["queued", "1000"],
    ]);
    const none = await pendingMovementsQuery(database.db, walletId, []);
    expect(none.map((row) => row.status)).to.deep.equal(["pending", "pending", "pending"]);
  });

  // A movement to the recipient the history paid 15,000 times, and one to a recipient never paid.
  const riskFactsCase = (to: Address) =>
    riskFactsQuery(
      {
        movementId: randomUUID(),
        userId,
        kind: "transfer",
        from: SENDER,
        to,
        amount: 5n,
        payees: [],
        principal: undefined,
      },
      (address) => [getAddress(address), address.toLowerCase()],
      [{ address: SENDER }, { address: to }],
    );

  it("reads the risk facts of a long history: its last movements, the count, a recipient paid before", async () => {
    const [paid] = await database.query<{ paid_before: boolean; history: unknown; history_count: unknown }>(
      riskFactsCase(OTHER_SENDER),
    );
    expect(paid!.paid_before).to.equal(true);
    // A quarter of the history was denied (no history); five more of the user's movements are unfinished.
    expect(Number(paid!.history_count)).to.equal((HISTORY * 3) / 4 + 5);
    const [fresh] = await database.query<{ paid_before: boolean }>(riskFactsCase(SENDER));
    expect(fresh!.paid_before).to.equal(false);
  });

  for (const planCacheMode of ["force_custom_plan", "force_generic_plan"] as const) {
    it(`reads a constant few pages for the risk facts (${planCacheMode})`, async () => {
      expectConstantReads(await preparedPlan(riskFactsCase(OTHER_SENDER), planCacheMode));
      expectConstantReads(await preparedPlan(riskFactsCase(SENDER), planCacheMode));
    });

    it(`reads a constant few pages to list a wallet's pending movements (${planCacheMode})`, async () => {
      expectConstantReads(await preparedPlan(pendingCase(), planCacheMode));
      expectConstantReads(await preparedPlan(pendingMovementsQuery(database.db, walletId, []), planCacheMode));
    });

    it(`reads a constant few pages of a ${HISTORY}-movement history (${planCacheMode})`, async () => {
      expectConstantReads(await preparedPlan(doorReadQuery(database.db), planCacheMode, values("relay-new")));
    });

    it(`reads a constant few pages for a contract's reservation too (${planCacheMode})`, async () => {
      expectConstantReads(await preparedPlan(contractCase(), planCacheMode));
    });
  }
});
