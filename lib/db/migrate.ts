import { sql } from "drizzle-orm";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { migrate as migratePostgres } from "drizzle-orm/node-postgres/migrator";

import type { Database } from "./database.ts";

export type MigrationSet = {
  /** Folder of drizzle-kit generated SQL migrations (numbered, only ever added). */
  folder: string;
  /** Bookkeeping table, one per set, so the ledger and the API evolve independently. */
  table: string;
};

/**
 * Applies every pending migration of the given sets, in order, inside the database's schema.
 * Safe to call at every start: applied migrations are recorded and skipped. On PostgreSQL the whole
 * run holds an advisory lock per schema, so processes starting together (an indexer and several
 * workers on a fresh database) take turns instead of racing on the same CREATE TABLE; PGlite has
 * one session, so nothing can race there.
 * @param database - an open {@link Database}
 * @param sets - migration sets, applied in the order given
 */
export async function runMigrations(database: Database, sets: MigrationSet[]): Promise<void> {
  const optionsOf = (set: MigrationSet) => ({
    migrationsFolder: set.folder,
    migrationsTable: set.table,
    migrationsSchema: database.schema,
  });
  if (database.engine === "pglite") {
    for (const set of sets) await migratePglite(database.db as never, optionsOf(set));
    return;
  }
  const lockKey = `stablerail-migrations:${database.schema}`;
  await database.withSession(async (session) => {
    await session.execute(sql`SELECT pg_advisory_lock(hashtext(${lockKey}))`);
    try {
      for (const set of sets) await migratePostgres(session as never, optionsOf(set));
    } finally {
      await session.execute(sql`SELECT pg_advisory_unlock(hashtext(${lockKey}))`);
    }
  });
}
