import { and, desc, lt, type SQL } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";

import { decodeSeqCursor, encodeSeqCursor } from "../schemas/common.ts";

/**
 * One page of a list over one of the API's tables, newest first, by its `seq` identity column:
 * `fetch` gets the WHERE (the caller's conditions, and `seq` below the cursor's) and how many rows
 * to read — one more than the page, which tells whether there is a next page.
 * @throws ValidationError CURSOR_INVALID for a cursor this API did not return
 */
export async function seqPage<Row extends { seq: bigint }>(
  seq: AnyPgColumn,
  conditions: SQL[],
  { limit, cursor }: { limit: number; cursor?: string | undefined },
  fetch: (where: SQL | undefined, orderBy: SQL, rows: number) => Promise<Row[]>,
): Promise<{ items: Row[]; nextCursor: string | null }> {
  const where = and(...conditions, ...(cursor ? [lt(seq, decodeSeqCursor(cursor))] : []));
  const rows = await fetch(where, desc(seq), limit + 1);
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? encodeSeqCursor(items[items.length - 1]!.seq) : null };
}
