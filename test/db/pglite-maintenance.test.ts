/**
 * Embedded PGlite has no autovacuum (lib/db/pglite-maintenance.ts): without housekeeping of its own,
 * every row version an UPDATE leaves behind stays, and the relayer's statements slowed with them.
 * The dead versions are counted by PostgreSQL's own statistics (pg_stat_user_tables).
 */
import { expect } from "chai";
import { sql } from "drizzle-orm";

import { openDatabase, type Database } from "../../lib/db/database.ts";

type TableStats = { dead: number; live: number; vacuumed: boolean; analyzed: boolean };

async function statsOf(database: Database): Promise<TableStats> {
  const [row] = await database.query<{ dead: number; live: number; vacuumed: boolean; analyzed: boolean }>(sql`
    SELECT n_dead_tup::int AS dead, n_live_tup::int AS live, last_vacuum IS NOT NULL AS vacuumed,
           last_analyze IS NOT NULL AS analyzed
    FROM pg_stat_user_tables WHERE relname = 'accounts'`);
  return row!;
}

/** A table of 2,000 rows, each updated three times: 6,000 dead versions for 2,000 live ones. */
async function churn(database: Database): Promise<void> {
  await database.query(sql`CREATE TABLE accounts (id int PRIMARY KEY, balance numeric(78,0) NOT NULL)`);
  await database.query(sql`INSERT INTO accounts SELECT g, 0 FROM generate_series(1, 2000) g`);
  for (let i = 0; i < 3; i += 1) await database.query(sql`UPDATE accounts SET balance = balance + 1`);
}

async function waitFor(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe("embedded PGlite's housekeeping (its autovacuum)", () => {
  const opened: Database[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((database) => database.close()));
  });

  it("keeps every dead row version when switched off (PGLITE_VACUUM_INTERVAL_MS=0), as PGlite alone does", async () => {
    const database = await openDatabase({ schema: "housekeeping_off", pgliteVacuumIntervalMs: 0 });
    opened.push(database);
    await churn(database);
    expect(await waitFor(async () => (await statsOf(database)).dead >= 6000, 5000)).to.equal(true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await statsOf(database)).to.include({ dead: 6000, vacuumed: false });
  });

  it("vacuums and analyzes a table past autovacuum's thresholds, and keeps every live row", async () => {
    const database = await openDatabase({ schema: "housekeeping_on", pgliteVacuumIntervalMs: 50 });
    opened.push(database);
    await churn(database);
    const cleaned = await waitFor(async () => {
      const stats = await statsOf(database);
      return stats.vacuumed && stats.analyzed && stats.dead === 0;
    }, 10_000);
    expect(cleaned, JSON.stringify(await statsOf(database))).to.equal(true);
    expect(
      await database.query(sql`SELECT count(*)::int AS rows, sum(balance)::text AS total FROM accounts`),
    ).to.deep.equal([{ rows: 2000, total: "6000" }]);
  });

  it("runs between transactions: a round waits for an open one, which commits as its caller says", async () => {
    const database = await openDatabase({ schema: "housekeeping_tx", pgliteVacuumIntervalMs: 20 });
    opened.push(database);
    await churn(database);
    await database.db.transaction(async (tx) => {
      await tx.execute(sql`UPDATE accounts SET balance = balance + 1 WHERE id = 1`);
      // Long enough for several rounds to come due while the transaction is open.
      await new Promise((resolve) => setTimeout(resolve, 200));
      await tx.execute(sql`UPDATE accounts SET balance = balance + 1 WHERE id = 2`);
    });
    expect(await waitFor(async () => (await statsOf(database)).vacuumed, 10_000)).to.equal(true);
    expect(
      await database.query(sql`SELECT balance::text FROM accounts WHERE id IN (1, 2, 3) ORDER BY id`),
    ).to.deep.equal([{ balance: "4" }, { balance: "4" }, { balance: "3" }]);
  });
});
