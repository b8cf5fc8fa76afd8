import { mkdir } from "node:fs/promises";

import { PGlite } from "@electric-sql/pglite";
import { sql, type SQL } from "drizzle-orm";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/node-postgres";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import pg from "pg";

import { UnavailableError } from "../errors/base.ts";
import { copyRows, type CopyRows } from "./copy-text.ts";
import { startPgliteMaintenance } from "./pglite-maintenance.ts";
import { withPreparedStatements } from "./pglite-prepared.ts";
import { openPgliteThread, type PgliteClient } from "./pglite-thread.ts";
import { nameStatementsOnConnect } from "./postgres-named.ts";

/**
 * One database handle for both engines Stablerail runs on: PostgreSQL (node-postgres pool)
 * when a URL is given, otherwise PGlite — the same Postgres compiled to WASM, embedded in the
 * process, with its data in a folder (or in memory for tests). Every table lives in one
 * PostgreSQL schema, set as the search path, so a test can own a schema of its own.
 *
 * PGlite is single-process: the embedded stack runs the indexer, API and workers in one
 * process (`npm start`); running them as separate processes needs a PostgreSQL server.
 */
export type Db = PgDatabase<PgQueryResultHKT, Record<string, never>>;

/** The handle a transaction's statements run on (drizzle's transaction of {@link Db}). */
export type DbTransaction = Parameters<Parameters<Db["transaction"]>[0]>[0];

/** Loads rows into a table with COPY, inside the transaction it was handed by (see Database.transaction). */
export type CopyLoader = (rows: CopyRows) => Promise<void>;

export type Database = {
  readonly engine: "postgres" | "pglite";
  readonly schema: string;
  /** Drizzle query builder over the connection (pool or embedded instance). */
  readonly db: Db;
  /** Runs raw SQL and returns the rows (for queries drizzle's builder expresses poorly). */
  query: <Row extends Record<string, unknown>>(statement: SQL) => Promise<Row[]>;
  /**
   * Runs `fn` on one dedicated session (for session-scoped state such as advisory locks).
   * `lost` aborts when the session's connection fails (the server terminated it, the network
   * dropped): whatever the session held — an advisory lock — is gone, and `fn` must stop relying
   * on it. The failed connection is discarded, never returned to the pool.
   * On PGlite there is only one session, which cannot be lost; `fn` gets the shared handle.
   */
  withSession: <T>(fn: (session: Db, lost: AbortSignal) => Promise<T>) => Promise<T>;
  /**
   * Runs `fn` in one transaction, as `db.transaction` does. On PostgreSQL `copy` loads rows with
   * `COPY … FROM STDIN` on the transaction's own connection (lib/db/copy-text.ts says why); on PGlite
   * it is undefined — its thread carries no COPY data — and the caller inserts instead.
   */
  transaction: <T>(fn: (tx: DbTransaction, copy: CopyLoader | undefined) => Promise<T>) => Promise<T>;
  close: () => Promise<void>;
};

export type OpenDatabaseParameters = {
  /** postgres:// URL; when absent, PGlite is used. */
  url?: string | undefined;
  /** PGlite data folder; `undefined` or "memory://" keeps the database in memory. */
  pgliteDir?: string | undefined;
  /** Schema holding every table (created when missing). */
  schema: string;
  poolSize?: number;
  /** PostgreSQL server only: name each parameterised statement per connection (default true). */
  namedStatements?: boolean;
  /** PGlite only: run it in a worker thread (default true; lib/db/pglite-thread.ts says why), or in the caller's. */
  pgliteThread?: boolean;
  /** PGlite only: how often its housekeeping vacuums and analyzes what needs it (default 2,000 ms; 0 never). */
  pgliteVacuumIntervalMs?: number;
};

/**
 * Opens the database named by configuration and selects its schema.
 * @returns a {@link Database}; call `close()` when done
 * @throws UnavailableError when the PostgreSQL server does not answer
 * @example
 * const database = await openDatabase({ schema: "stablerail" }); // in-memory PGlite
 */
export async function openDatabase({
  url,
  pgliteDir,
  schema,
  poolSize = 10,
  namedStatements = true,
  pgliteThread = true,
  pgliteVacuumIntervalMs = 2000,
}: OpenDatabaseParameters): Promise<Database> {
  assertIdentifier(schema);
  return url
    ? openPostgres(url, schema, poolSize, namedStatements)
    : openPglite(pgliteDir, schema, pgliteThread, pgliteVacuumIntervalMs);
}

async function openPostgres(
  url: string,
  schema: string,
  poolSize: number,
  namedStatements: boolean,
): Promise<Database> {
  try {
    const bootstrap = new pg.Client({ connectionString: url });
    await bootstrap.connect();
    await bootstrap.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`).finally(() => bootstrap.end());
  } catch (error) {
    throw new UnavailableError(
      "DATABASE_UNAVAILABLE",
      `PostgreSQL at ${redactUrl(url)} did not answer: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    options: `-c search_path="${schema}",public`,
    // Names this process's sessions in pg_stat_activity (which schema they serve), for operators.
    application_name: `stablerail:${schema}`,
    // A connection whose peer vanished without a word is noticed by TCP instead of hanging for ever.
    keepAlive: true,
  });
  // An idle client that loses its server emits 'error' on the pool; without a listener the process dies.
  pool.on("error", () => undefined);
  // A client checked out for a query or a transaction (drizzle's db.transaction) has no pool
  // listener while it is out: its server terminating it is an unhandled 'error' event that ends
  // the process. The query in flight still rejects and the pool discards the broken client.
  pool.on("connect", (client) => client.on("error", () => undefined));
  // Each parameterised statement parsed and planned once per connection, not on every call.
  if (namedStatements) nameStatementsOnConnect(pool);
  const db = drizzlePostgres({ client: pool }) as unknown as Db;
  return {
    engine: "postgres",
    schema,
    db,
    query: async <Row extends Record<string, unknown>>(statement: SQL) =>
      ((await db.execute(statement)) as unknown as { rows: Row[] }).rows,
    withSession: async (fn) => {
      const client = await pool.connect();
      const lost = new AbortController();
      let failure: Error | undefined;
      // A checked-out client has no pool listener: without this one, a terminated backend
      // ("terminating connection due to administrator command") is an unhandled 'error' event
      // that ends the process.
      const onError = (error: Error) => {
        failure ??= error;
        lost.abort(
          new UnavailableError("DATABASE_SESSION_LOST", `The database session was lost: ${error.message}`, {
            cause: error,
          }),
        );
      };
      client.on("error", onError);
      try {
        return await fn(drizzlePostgres({ client }) as unknown as Db, lost.signal);
      } catch (error) {
        failure ??= error as Error;
        throw error;
      } finally {
        client.off("error", onError);
        // A session that failed is destroyed (release with an error), never handed to the next caller:
        // it may be the connection that broke, and its session state (locks) is unknown.
        client.release(failure);
      }
    },
    transaction: async (fn) => {
      // A connection of its own, so the COPY runs on the one the transaction's statements run on.
      const client = await pool.connect();
      let failure: Error | undefined;
      try {
        const session = drizzlePostgres({ client }) as unknown as Db;
        return await session.transaction((tx) => fn(tx, (rows) => copyRows(client, rows)));
      } catch (error) {
        failure = error as Error;
        throw error;
      } finally {
        // After a failure the connection may be the one that broke: destroyed, not handed on.
        client.release(failure);
      }
    },
    close: () => pool.end(),
  };
}

async function openPglite(
  dataDir: string | undefined,
  schema: string,
  inThread: boolean,
  vacuumIntervalMs: number,
): Promise<Database> {
  const inMemory = dataDir === undefined || dataDir === "memory://";
  if (!inMemory) await mkdir(dataDir, { recursive: true });
  // In a worker thread, each statement costs a message each way (about 0.1–0.4 ms) and the event
  // loop runs on while it executes; in the caller's thread it costs nothing more but blocks the loop.
  const client: PgliteClient = inThread
    ? await openPgliteThread(inMemory ? undefined : dataDir)
    : withPreparedStatements(await PGlite.create(inMemory ? undefined : dataDir));
  await client.exec(`CREATE SCHEMA IF NOT EXISTS "${schema}"; SET search_path TO "${schema}", public;`);
  const db = drizzlePglite({ client: client as PGlite }) as unknown as Db;
  const maintenance = startPgliteMaintenance(client, vacuumIntervalMs);
  return {
    engine: "pglite",
    schema,
    db,
    query: async <Row extends Record<string, unknown>>(statement: SQL) =>
      ((await db.execute(statement)) as unknown as { rows: Row[] }).rows,
    withSession: (fn) => fn(db, new AbortController().signal),
    transaction: (fn) => db.transaction((tx) => fn(tx, undefined)),
    close: async () => {
      await maintenance.stop();
      await client.close();
    },
  };
}

function assertIdentifier(schema: string): void {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name: ${schema}`);
}

function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");
}

/** Re-exported so callers build raw statements with the same `sql` tag the handle accepts. */
export { sql };
