/**
 * Screening: whether any of a movement's parties is on a denylist (screening_entries), and the
 * operator's changes to the lists. An address is stored and looked up lower-case, so a checksum
 * (or its absence) never hides a match.
 */
import { and, eq, inArray, sql } from "drizzle-orm";

import type { Database } from "../../../lib/db/database.ts";
import { screeningEntries } from "../../db/security-schema.ts";
import type { ScreeningListEntry } from "./parse-lists.ts";

/** A denylist hit, named for the reason's details. */
export type ScreeningHit = {
  list: string;
  address: string;
  entryUid: string | null;
  entryName: string | null;
  /** Which party matched: sender, recipient, payee or a party found inside the signed request. */
  party: string;
};

/**
 * Looks the parties up in every list.
 * @param parties - role → address (e.g. { sender: from, recipient: to })
 * @returns the first hit, or undefined
 */
export async function screenParties(
  database: Database,
  parties: readonly { party: string; address: string }[],
): Promise<ScreeningHit | undefined> {
  if (parties.length === 0) return undefined;
  const addresses = [...new Set(parties.map((p) => p.address.toLowerCase()))];
  const rows = await database.db
    .select()
    .from(screeningEntries)
    .where(inArray(screeningEntries.address, addresses))
    .limit(1);
  const row = rows[0];
  if (!row) return undefined;
  return {
    list: row.list,
    address: row.address,
    entryUid: row.entryUid,
    entryName: row.entryName,
    party: parties.find((p) => p.address.toLowerCase() === row.address)!.party,
  };
}

/**
 * Adds entries to a list (`replace` first empties it), in one transaction.
 * @returns how many addresses the list holds afterwards
 */
export async function storeScreeningEntries(
  database: Database,
  p: { list: string; entries: readonly ScreeningListEntry[]; source: string; mode: "merge" | "replace"; by: string },
): Promise<number> {
  return database.db.transaction(async (tx) => {
    if (p.mode === "replace") await tx.delete(screeningEntries).where(eq(screeningEntries.list, p.list));
    for (let i = 0; i < p.entries.length; i += 500) {
      const chunk = p.entries.slice(i, i + 500);
      await tx
        .insert(screeningEntries)
        .values(chunk.map((e) => ({ list: p.list, ...e, source: p.source, addedBy: p.by })))
        .onConflictDoUpdate({
          target: [screeningEntries.list, screeningEntries.address],
          set: { entryUid: sql`excluded.entry_uid`, entryName: sql`excluded.entry_name`, source: p.source },
        });
    }
    const [count] = await tx
      .select({ n: sql<number>`count(*)::int` })
      .from(screeningEntries)
      .where(eq(screeningEntries.list, p.list));
    return count!.n;
  });
}

/** Removes one address from a list; @returns whether it was there */
export async function removeScreeningEntry(database: Database, list: string, address: string): Promise<boolean> {
  const removed = await database.db
    .delete(screeningEntries)
    .where(and(eq(screeningEntries.list, list), eq(screeningEntries.address, address.toLowerCase())))
    .returning({ address: screeningEntries.address });
  return removed.length > 0;
}
