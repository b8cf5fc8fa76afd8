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
 * Safe to call at every start: applied migrations are recorded and skipped.
 * @param database - an open {@link Database}
 * @param sets - migration sets, applied in the order given
 */
export async function runMigrations(database: Database, sets: MigrationSet[]): Promise<void> {
  for (const set of sets) {
    const options = { migrationsFolder: set.folder, migrationsTable: set.table, migrationsSchema: database.schema };
    if (database.engine === "pglite") await migratePglite(database.db as never, options);
    else await migratePostgres(database.db as never, options);
  }
}
