import { and, desc, eq, inArray, lt, type SQL } from "drizzle-orm";

import type { Database } from "../../lib/db/database.ts";
import { relays } from "./db/schema.ts";
import { toRelays } from "./get-relay.ts";
import type { Relay, RelayStatus } from "./relay-status.ts";

export type ListRelaysParameters = {
  status?: RelayStatus | RelayStatus[] | undefined;
  requestedBy?: string | undefined;
  /** Relays updated before this time (cursor: pass the last row's `updatedAt`). */
  before?: Date | undefined;
  limit?: number | undefined;
};

/**
 * Lists relays, newest first, with their transitions.
 * @example
 * const failed = await listRelays(database, { status: "failed", limit: 50 });
 */
export async function listRelays(
  database: Database,
  { status, requestedBy, before, limit = 50 }: ListRelaysParameters = {},
): Promise<Relay[]> {
  const filters: SQL[] = [];
  if (status !== undefined)
    filters.push(Array.isArray(status) ? inArray(relays.status, status) : eq(relays.status, status));
  if (requestedBy !== undefined) filters.push(eq(relays.requestedBy, requestedBy));
  if (before !== undefined) filters.push(lt(relays.updatedAt, before));
  const rows = await database.db
    .select()
    .from(relays)
    .where(filters.length > 0 ? and(...filters) : undefined)
    .orderBy(desc(relays.updatedAt))
    .limit(Math.min(Math.max(limit, 1), 500));
  return toRelays(database, rows);
}

/**
 * The operators' dead-letter view: relays that ended without reaching the chain's confirmation
 * (failed, expired, cancelled), newest first, each with its error code and transitions.
 */
export function listDeadLetters(
  database: Database,
  parameters: Omit<ListRelaysParameters, "status"> = {},
): Promise<Relay[]> {
  return listRelays(database, { ...parameters, status: ["failed", "expired", "cancelled"] });
}
