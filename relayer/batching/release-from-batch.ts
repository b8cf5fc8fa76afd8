import { and, eq, sql } from "drizzle-orm";
import type { Address } from "viem";

import type { Database } from "../../lib/db/database.ts";
import { relayerTransactions, relays } from "../db/schema.ts";

/** The mark a released relay id leaves in a transaction's `relay_ids` (it keeps the others' indexes). */
export const releasedMark = (relayId: string) => `released:${relayId}`;

/**
 * Takes `relayId` out of every recorded transaction at `relayer`'s `nonce` (the batch and any
 * replacement of it): its entry in `relay_ids` becomes `released:<relayId>`, so positions — the
 * other items' batch indexes — stay, and neither a retry (process-relay.ts looks relays up by
 * `relay_ids @> [relayId]`) nor a cancel sees the relay as sent any more.
 *
 * Only for a batch that is mined and did not settle the relay: its nonce can carry nothing else.
 * One UPDATE per row, so items releasing themselves at once do not lose each other's marks. The
 * relay's batch index is cleared too: it described a place it no longer holds.
 */
export async function releaseFromBatch(
  database: Database,
  relayer: Address,
  nonce: number,
  relayId: string,
): Promise<void> {
  const ids = relayerTransactions.relayIds;
  await database.db
    .update(relayerTransactions)
    .set({
      relayIds: sql`(
        SELECT jsonb_agg(CASE WHEN item = to_jsonb(${relayId}::text) THEN to_jsonb(${releasedMark(relayId)}::text) ELSE item END ORDER BY position)
        FROM jsonb_array_elements(${ids}) WITH ORDINALITY AS items(item, position)
      )`,
    })
    .where(
      and(
        eq(relayerTransactions.relayer, relayer),
        eq(relayerTransactions.nonce, nonce),
        sql`${ids} @> ${JSON.stringify([relayId])}::jsonb`,
      ),
    );
  await database.db.update(relays).set({ batchIndex: null }).where(eq(relays.relayId, relayId));
}
