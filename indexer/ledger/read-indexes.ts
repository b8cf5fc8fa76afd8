/**
 * Ledger stage, index maintenance of a cold start: the indexes only reads need (the API's
 * history, statements and balances at a time, lookups by transaction or reference) are dropped
 * while an empty ledger is backfilled, and built once, in one statement each, when the backfill
 * reaches its target. Maintaining them row by row cost about 7 µs per posting each, most of what
 * the database spent per event (issue 17); a sort-based build over the finished table costs a
 * fraction of that.
 *
 * Input: the open database. Output: `deferIfEmpty` (before a catch-up) and `rebuild` (after it).
 *
 * The migrations stay the source of truth: what is dropped is first copied, as the server prints
 * it (`pg_indexes.indexdef`), into `ledger_deferred_indexes` in the same transaction, and the
 * rebuild runs exactly those definitions and deletes them in one transaction. So a process killed
 * at any instant leaves either every index in place or its definition on record, and the next
 * catch-up of any instance — a restarted one, a standby that took the lock — continues without
 * them and rebuilds them when it reaches the head. Reads stay correct meanwhile (sequential scans,
 * only while the ledger is being filled from empty).
 *
 * The writer itself needs none of them: it reads balances by primary key, inserts chain events
 * through `chain_events_position` (ON CONFLICT), and a rollback deletes by primary key.
 */
import { sql } from "drizzle-orm";

import type { Database } from "../../lib/db/database.ts";
import type { Logger } from "../../lib/logging/logger.ts";

/** Indexes used by reads only; the writer's path uses none of them. */
export const DEFERRABLE_READ_INDEXES = [
  "postings_account_all_tokens",
  "postings_account_time",
  "journal_entries_tx",
  "journal_entries_reference",
] as const;

export type ReadIndexes = {
  /**
   * Drops the read-only indexes when the whole ledger (every chain of this schema) holds no entry yet.
   * @returns true when they are deferred now or were already (a catch-up interrupted earlier)
   */
  deferIfEmpty: () => Promise<boolean>;
  /**
   * Builds every deferred index from its recorded definition and clears the record, in one transaction.
   * @returns the names built (none when nothing was deferred)
   */
  rebuild: () => Promise<string[]>;
};

/**
 * Creates the read-index maintenance of a cold start.
 * @example
 * await readIndexes.deferIfEmpty(); await backfill(); await readIndexes.rebuild();
 */
export function createReadIndexes({
  database,
  common,
}: {
  database: Database;
  common: { logger: Logger };
}): ReadIndexes {
  const { db } = database;
  return {
    deferIfEmpty: () =>
      db.transaction(async (tx) => {
        // Dropping takes the table's exclusive lock: wait for readers' statements briefly, never long
        // (deferring is an optimisation; without it the backfill is only slower).
        if (database.engine === "postgres") await tx.execute(sql`SET LOCAL lock_timeout = '2s'`);
        const rows = rowsOf<{ empty: boolean; deferred: number | string }>(
          await tx.execute(sql`SELECT
            NOT EXISTS (SELECT 1 FROM journal_entries) AND NOT EXISTS (SELECT 1 FROM postings) AS empty,
            (SELECT count(*) FROM ledger_deferred_indexes) AS deferred`),
        );
        if (Number(rows[0]?.deferred) > 0) return true;
        if (rows[0]?.empty !== true) return false;
        const names = sql.join(
          DEFERRABLE_READ_INDEXES.map((name) => sql`${name}`),
          sql`, `,
        );
        const present = rowsOf<{ indexname: string; indexdef: string }>(
          await tx.execute(sql`SELECT indexname, indexdef FROM pg_indexes
            WHERE schemaname = current_schema() AND indexname IN (${names})`),
        );
        for (const { indexname, indexdef } of present) {
          await tx.execute(
            sql`INSERT INTO ledger_deferred_indexes (name, definition) VALUES (${indexname}, ${indexdef})`,
          );
          await tx.execute(sql`DROP INDEX ${sql.identifier(indexname)}`);
        }
        if (present.length > 0)
          common.logger.info(
            { indexes: present.map((row) => row.indexname) },
            "empty ledger: read indexes deferred until the backfill reaches the head",
          );
        return present.length > 0;
      }),
    rebuild: () =>
      db.transaction(async (tx) => {
        const deferred = rowsOf<{ name: string; definition: string }>(
          await tx.execute(sql`SELECT name, definition FROM ledger_deferred_indexes ORDER BY name FOR UPDATE`),
        );
        if (deferred.length === 0) return [];
        const started = Date.now();
        // A sort-based build: give it room to sort in memory (this transaction only).
        if (database.engine === "postgres") await tx.execute(sql`SET LOCAL maintenance_work_mem = '256MB'`);
        for (const { definition } of deferred)
          await tx.execute(sql.raw(definition.replace(/^CREATE (UNIQUE )?INDEX /, "CREATE $1INDEX IF NOT EXISTS ")));
        await tx.execute(sql`DELETE FROM ledger_deferred_indexes`);
        const names = deferred.map((row) => row.name);
        common.logger.info({ indexes: names, ms: Date.now() - started }, "read indexes built");
        return names;
      }),
  };
}

/** Rows of a raw `tx.execute` on either driver. */
function rowsOf<Row>(result: unknown): Row[] {
  return ((result as { rows?: Row[] }).rows ?? (result as Row[])) as Row[];
}
