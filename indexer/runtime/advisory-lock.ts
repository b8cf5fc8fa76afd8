import { sql } from "drizzle-orm";

import type { Db } from "../../lib/db/database.ts";

/**
 * The one-active-indexer rule: a PostgreSQL session-level advisory lock per (schema, chain).
 * Held on a dedicated session, it is released by the server when the holder's connection dies,
 * so a standby that keeps retrying takes over without any lease bookkeeping.
 */
export async function tryAdvisoryLock(session: Db, schema: string, chainId: number): Promise<boolean> {
  const result = (await session.execute(
    sql`SELECT pg_try_advisory_lock(hashtext(${`stablerail-indexer:${schema}`}), ${chainId}) AS locked`,
  )) as unknown as {
    rows: { locked: boolean }[];
  };
  return result.rows[0]?.locked === true;
}

export async function releaseAdvisoryLock(session: Db, schema: string, chainId: number): Promise<void> {
  await session.execute(sql`SELECT pg_advisory_unlock(hashtext(${`stablerail-indexer:${schema}`}), ${chainId})`);
}
