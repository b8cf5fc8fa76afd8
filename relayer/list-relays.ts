import { and, desc, eq, inArray, lt, or, type SQL } from "drizzle-orm";

import type { Database } from "../lib/db/database.ts";
import { relays } from "./db/schema.ts";
import { toRelays } from "./get-relay.ts";
import type { Relay, RelayStatus } from "./relay-status.ts";

/** The statuses of a dead letter: relays that ended without their effect on chain. */
export const deadLetterStatuses = ["failed", "expired", "cancelled", "dead"] as const satisfies readonly RelayStatus[];

/** Where a page ends: the (updatedAt, relayId) of its last relay — unique, so no relay is skipped or repeated. */
export type RelayPosition = { updatedAt: Date; relayId: string };

export type ListRelaysParameters = {
  status?: RelayStatus | readonly RelayStatus[] | undefined;
  requestedBy?: string | undefined;
  /** Relays after this position in the newest-first order (the previous page's last relay). */
  after?: RelayPosition | undefined;
  limit?: number | undefined;
};

/**
 * Lists relays, newest first by (updatedAt, relayId), with their transitions.
 * @returns the page and whether more relays follow it
 * @example
 * const { relays, more } = await listRelays(database, { status: deadLetterStatuses, limit: 50 });
 */
export async function listRelays(
  database: Database,
  { status, requestedBy, after, limit = 50 }: ListRelaysParameters = {},
): Promise<{ relays: Relay[]; more: boolean }> {
  const filters: SQL[] = [];
  if (status !== undefined)
    filters.push(typeof status === "string" ? eq(relays.status, status) : inArray(relays.status, [...status]));
  if (requestedBy !== undefined) filters.push(eq(relays.requestedBy, requestedBy));
  if (after !== undefined) {
    filters.push(
      or(
        lt(relays.updatedAt, after.updatedAt),
        and(eq(relays.updatedAt, after.updatedAt), lt(relays.relayId, after.relayId)),
      )!,
    );
  }
  const size = Math.min(Math.max(limit, 1), 500);
  const rows = await database.db
    .select()
    .from(relays)
    .where(filters.length > 0 ? and(...filters) : undefined)
    .orderBy(desc(relays.updatedAt), desc(relays.relayId))
    .limit(size + 1);
  return { relays: await toRelays(database, rows.slice(0, size)), more: rows.length > size };
}
