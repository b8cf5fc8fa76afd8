import { and, eq, gt, inArray, isNull, or } from "drizzle-orm";

import type { Database } from "../lib/db/database.ts";
import { relays } from "./db/schema.ts";
import { finalRelayStatuses, relayStatuses } from "./relay-status.ts";

const inFlight = relayStatuses.filter((status) => !finalRelayStatuses.has(status));

/**
 * The relays of one principal that have not settled: still in flight, or confirmed in a block the
 * ledger does not reach yet (`indexedHead`). What a wallet shows as pending, found through an
 * index on (requested_by, status, block_number) rather than by reading the principal's history.
 * @returns their relay ids
 */
export async function listOpenRelayIds(
  database: Database,
  { requestedBy, indexedHead }: { requestedBy: string; indexedHead: bigint | undefined },
): Promise<string[]> {
  const confirmedNotIndexed =
    indexedHead === undefined
      ? eq(relays.status, "confirmed")
      : and(
          eq(relays.status, "confirmed"),
          or(isNull(relays.blockNumber), gt(relays.blockNumber, indexedHead.toString())),
        );
  const rows = await database.db
    .select({ relayId: relays.relayId })
    .from(relays)
    .where(and(eq(relays.requestedBy, requestedBy), or(inArray(relays.status, inFlight), confirmedNotIndexed)));
  return rows.map((row) => row.relayId);
}
