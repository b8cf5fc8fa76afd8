import { and, asc, eq } from "drizzle-orm";
import { getAddress, type Address, type Hash, type Hex } from "viem";

import type { Database } from "../../db/database.ts";
import { journalEntries, postings } from "../schema.ts";
import type { EntryKind, Posting } from "../types.ts";

export type GetTransactionParameters = { chainId: number; transactionHash: Hash };

export type TransactionEntry = {
  blockNumber: bigint;
  blockHash: Hash;
  blockTimestamp: bigint;
  logIndex: number;
  token: Address;
  kind: EntryKind;
  reference: Hex | null;
  event: Record<string, unknown>;
  postings: Posting[];
};

/**
 * Every journal entry of one transaction, in log order, with its postings.
 * @returns the entries; an empty array when the transaction moved no indexed token (or is not indexed yet)
 */
export async function getTransaction(
  database: Database,
  { chainId, transactionHash }: GetTransactionParameters,
): Promise<TransactionEntry[]> {
  const rows = await database.db
    .select({ entry: journalEntries, posting: postings })
    .from(journalEntries)
    .innerJoin(
      postings,
      and(
        eq(postings.chainId, journalEntries.chainId),
        eq(postings.blockNumber, journalEntries.blockNumber),
        eq(postings.logIndex, journalEntries.logIndex),
      ),
    )
    .where(and(eq(journalEntries.chainId, chainId), eq(journalEntries.transactionHash, transactionHash.toLowerCase())))
    .orderBy(asc(journalEntries.blockNumber), asc(journalEntries.logIndex), asc(postings.leg));
  const entries: TransactionEntry[] = [];
  for (const { entry, posting } of rows) {
    let current = entries[entries.length - 1];
    if (!current || current.logIndex !== entry.logIndex || current.blockNumber !== entry.blockNumber) {
      current = {
        blockNumber: entry.blockNumber,
        blockHash: entry.blockHash as Hash,
        blockTimestamp: entry.blockTimestamp,
        logIndex: entry.logIndex,
        token: getAddress(entry.token),
        kind: entry.kind as EntryKind,
        reference: entry.reference as Hex | null,
        event: entry.event as Record<string, unknown>,
        postings: [],
      };
      entries.push(current);
    }
    current.postings.push({
      account: posting.account,
      counterparty: posting.counterparty,
      amount: BigInt(posting.amount),
    });
  }
  return entries;
}
