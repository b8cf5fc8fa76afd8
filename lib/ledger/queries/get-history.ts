import { and, desc, eq, gte, lte, or, lt, type SQL } from "drizzle-orm";
import { getAddress, type Address, type Hash, type Hex } from "viem";

import type { Database } from "../../db/database.ts";
import { normalizeAccount } from "../accounts.ts";
import { journalEntries, postings } from "../schema.ts";
import type { EntryKind } from "../types.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";

export type GetHistoryParameters = {
  chainId: number;
  /** An account name or a bare address (its holder account). */
  account: string;
  /** Page size (1..1000, default 50). */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string | undefined;
  token?: Address | undefined;
  kind?: EntryKind | undefined;
  /** Account name or bare address on the other side of the postings. */
  counterparty?: string | undefined;
  fromBlock?: bigint | undefined;
  toBlock?: bigint | undefined;
  /** Unix seconds, inclusive. */
  fromTime?: bigint | undefined;
  toTime?: bigint | undefined;
};

export type HistoryItem = {
  blockNumber: bigint;
  blockTimestamp: bigint;
  transactionHash: Hash;
  logIndex: number;
  token: Address;
  kind: EntryKind;
  reference: Hex | null;
  counterparty: string;
  /** Signed: negative when money left the account. */
  amount: bigint;
  balanceAfter: bigint;
};

export type History = { items: HistoryItem[]; nextCursor: string | null };

/**
 * An account's postings, newest first, with an opaque cursor for the next page and optional
 * filters. Served by the (chain, account, block, log index, leg) index, so a page costs
 * the same at a million rows as at ten.
 * @example
 * const page = await getHistory(database, { chainId, account: address, limit: 20 });
 * const next = await getHistory(database, { chainId, account: address, limit: 20, cursor: page.nextCursor! });
 */
export async function getHistory(database: Database, parameters: GetHistoryParameters): Promise<History> {
  const { chainId, cursor, token, kind, counterparty, fromBlock, toBlock, fromTime, toTime } = parameters;
  const limit = Math.min(Math.max(parameters.limit ?? 50, 1), 1000);
  const conditions: (SQL | undefined)[] = [
    eq(postings.chainId, chainId),
    eq(postings.account, normalizeAccount(parameters.account)),
  ];
  if (token) conditions.push(eq(postings.token, getAddress(token)));
  if (kind) conditions.push(eq(postings.kind, kind));
  if (counterparty) conditions.push(eq(postings.counterparty, normalizeAccount(counterparty)));
  if (fromBlock !== undefined) conditions.push(gte(postings.blockNumber, fromBlock));
  if (toBlock !== undefined) conditions.push(lte(postings.blockNumber, toBlock));
  if (fromTime !== undefined) conditions.push(gte(postings.blockTimestamp, fromTime));
  if (toTime !== undefined) conditions.push(lte(postings.blockTimestamp, toTime));
  if (cursor) {
    const at = decodeCursor(cursor);
    conditions.push(
      or(
        lt(postings.blockNumber, at.blockNumber),
        and(eq(postings.blockNumber, at.blockNumber), lt(postings.logIndex, at.logIndex)),
        and(eq(postings.blockNumber, at.blockNumber), eq(postings.logIndex, at.logIndex), lt(postings.leg, at.leg)),
      ),
    );
  }
  const rows = await database.db
    .select({
      blockNumber: postings.blockNumber,
      blockTimestamp: postings.blockTimestamp,
      logIndex: postings.logIndex,
      leg: postings.leg,
      token: postings.token,
      kind: postings.kind,
      counterparty: postings.counterparty,
      amount: postings.amount,
      balanceAfter: postings.balanceAfter,
      transactionHash: journalEntries.transactionHash,
      reference: journalEntries.reference,
    })
    .from(postings)
    .innerJoin(
      journalEntries,
      and(
        eq(journalEntries.chainId, postings.chainId),
        eq(journalEntries.blockNumber, postings.blockNumber),
        eq(journalEntries.logIndex, postings.logIndex),
      ),
    )
    .where(and(...conditions))
    .orderBy(desc(postings.blockNumber), desc(postings.logIndex), desc(postings.leg))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map((row) => ({
      blockNumber: row.blockNumber,
      blockTimestamp: row.blockTimestamp,
      transactionHash: row.transactionHash as Hash,
      logIndex: row.logIndex,
      token: getAddress(row.token),
      kind: row.kind as EntryKind,
      reference: row.reference as Hex | null,
      counterparty: row.counterparty,
      amount: BigInt(row.amount),
      balanceAfter: BigInt(row.balanceAfter),
    })),
    nextCursor: rows.length > limit && last ? encodeCursor(last) : null,
  };
}
