import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import pg from "pg";

import { openDatabase, type Database } from "../../lib/db/database.ts";

/**
 * Databases for tests: the same suite runs on embedded PGlite (in memory) and on the
 * PostgreSQL server on this machine, each test database in a fresh schema of its own.
 */
export type TestEngine = "pglite" | "postgres";

export const TEST_POSTGRES_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

export const testEngines: TestEngine[] = ["pglite", "postgres"];

/** PGlite in its worker thread (the default a user gets) unless PGLITE_THREAD=false: benchmarks compare both. */
const pgliteThread = process.env.PGLITE_THREAD !== "false";

/**
 * Where PGlite keeps a test database: in memory (the tests' default: nothing left behind), or on disk in a
 * data folder of its own under the system's temporary folder, removed by `drop` — as `npm start` keeps it in
 * PGLITE_DIR. Read when each database is opened, from TEST_PGLITE_STORAGE (`memory` or `disk`), so a benchmark can
 * choose before its fixtures open theirs (bench/lib/pglite-storage.ts).
 */
export type PgliteStorage = "memory" | "disk";

export function pgliteStorage(): PgliteStorage {
  const storage = process.env.TEST_PGLITE_STORAGE ?? "memory";
  if (storage !== "memory" && storage !== "disk")
    throw new Error(`TEST_PGLITE_STORAGE must be memory or disk, not ${storage}`);
  return storage;
}

/**
 * Opens an empty database on the given engine in a new uniquely named schema.
 * @returns the database and a `drop` function that closes it and removes the schema
 */
export async function createTestDatabase(
  engine: TestEngine,
  label = "t",
  /** Another URL to the same server (e.g. through a test's proxy); the schema is dropped through TEST_POSTGRES_URL. */
  url = TEST_POSTGRES_URL,
): Promise<Database & { drop: () => Promise<void> }> {
  const schema = `test_${label.replace(/[^a-z0-9_]/g, "_").slice(0, 30)}_${randomBytes(4).toString("hex")}`;
  const pgliteDir =
    engine === "pglite" && pgliteStorage() === "disk" ? await mkdtemp(join(tmpdir(), "stablerail-pglite-")) : undefined;
  const database = await openDatabase({
    url: engine === "postgres" ? url : undefined,
    pgliteDir,
    schema,
    poolSize: 5,
    pgliteThread,
  });
  return {
    ...database,
    drop: async () => {
      await database.close();
      if (pgliteDir !== undefined) await rm(pgliteDir, { recursive: true, force: true });
      if (engine === "postgres") {
        const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => client.end());
      }
    },
  };
}

/**
 * Declares `suite` once per engine: `describe("<title> [pglite]")` and `describe("<title> [postgres]")`.
 * @example
 * describeEachEngine("Ledger balances", (engine) => { it("...", async () => { const db = await createTestDatabase(engine); ... }) });
 */
export function describeEachEngine(title: string, suite: (engine: TestEngine) => void): void {
  for (const engine of testEngines) describe(`${title} [${engine}]`, () => suite(engine));
}
