import { and, eq, inArray, isNull, sql } from "drizzle-orm";

import type { Database } from "../lib/db/database.ts";
import { preparedOnce } from "../lib/db/prepared.ts";
import { relays } from "./db/schema.ts";
import { finalRelayStatuses, relayStatuses } from "./relay-status.ts";

const inFlight = relayStatuses.filter((status) => !finalRelayStatuses.has(status));

/**
 * The token amount `sender` signed away in the relays of one principal that are still in flight
 * and have no block yet — funds the chain balance does not show as spent. A relay once mined is
 * in the balance itself; a confirmed, failed, expired, cancelled or dead one reserves nothing.
 *
 * One SQL statement through the (requested_by, status, block_number) index: the principal's
 * unmined relays are summed in the database rather than listed and read back one by one (with
 * no worker running, that list grows with every submission — issue 17).
 *
 * Counted by what each kind takes from its signer: `token.transferWithAuthorization` its `value`
 * from `from`; `escrow.authorize` and `escrow.charge` their `amount` from the terms' `payer`;
 * `escrow.refundWithAuthorization` its `amount` from the `refunder`. The other kinds move a
 * contract's funds (escrow, settlement), never a signer's, and count as 0 here.
 * @param p.requestedBy - the principal (user id) the relays were queued for
 * @param p.sender - the address whose funds are counted (any case)
 * @param p.exceptRelayId - a relay left out (the movement being decided again must not reserve
 *   against its own relay)
 * @returns the sum, 0n when nothing is in flight
 * @example
 * const reserved = await sumUnminedRelays(database, { requestedBy: userId, sender: wallet.address });
 */
export async function sumUnminedRelays(
  database: Database,
  { requestedBy, sender, exceptRelayId }: { requestedBy: string; sender: string; exceptRelayId?: string | undefined },
): Promise<bigint> {
  const [row] = await unminedSum(database.db).execute({
    requestedBy,
    who: sender.toLowerCase(),
    // IS DISTINCT FROM NULL holds for every relay: no relay left out.
    exceptRelayId: exceptRelayId ?? null,
  });
  return BigInt(row?.total ?? 0);
}

// Run on every money movement's decision: built once (lib/db/prepared.ts), one shape for both cases.
const unminedSum = preparedOnce((db) => {
  const who = sql.placeholder("who");
  const taken = sql`CASE ${relays.kind}
    WHEN 'token.transferWithAuthorization' THEN
      CASE WHEN lower(${relays.request} ->> 'from') = ${who} THEN (${relays.request} ->> 'value')::numeric END
    WHEN 'escrow.authorize' THEN
      CASE WHEN lower(${relays.request} -> 'terms' ->> 'payer') = ${who} THEN (${relays.request} ->> 'amount')::numeric END
    WHEN 'escrow.charge' THEN
      CASE WHEN lower(${relays.request} -> 'terms' ->> 'payer') = ${who} THEN (${relays.request} ->> 'amount')::numeric END
    WHEN 'escrow.refundWithAuthorization' THEN
      CASE WHEN lower(${relays.request} ->> 'refunder') = ${who} THEN (${relays.request} ->> 'amount')::numeric END
  END`;
  return db
    .select({ total: sql<string | null>`sum(${taken})::text` })
    .from(relays)
    .where(
      and(
        eq(relays.requestedBy, sql.placeholder("requestedBy")),
        inArray(relays.status, inFlight),
        isNull(relays.blockNumber),
        sql`${relays.relayId} IS DISTINCT FROM ${sql.placeholder("exceptRelayId")}`,
      ),
    );
});
