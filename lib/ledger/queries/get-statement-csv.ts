import { and, asc, eq, gte, lte, type SQL } from "drizzle-orm";
import { getAddress, type Address } from "viem";

import type { Database } from "../../db/database.ts";
import { normalizeAccount } from "../accounts.ts";
import { journalEntries, postings } from "../schema.ts";
import { getBalance } from "./get-balance.ts";

export type GetStatementCsvParameters = {
  chainId: number;
  account: string;
  token: Address;
  /** Period as a block range (inclusive)… */
  fromBlock: bigint;
  toBlock: bigint;
};

/**
 * A statement of one account in one token over a block range, as CSV: an `opening` row (balance
 * at the end of `fromBlock − 1`), one `entry` row per posting in chain order, a `closing` row.
 * Amounts are integers in base units, signed (negative = out).
 * @returns the CSV text, header line first
 */
export async function getStatementCsv(
  database: Database,
  { chainId, account, token, fromBlock, toBlock }: GetStatementCsvParameters,
): Promise<string> {
  const name = normalizeAccount(account);
  const tokenAddress = getAddress(token);
  const opening =
    fromBlock > 0n
      ? await getBalance(database, { chainId, account: name, token: tokenAddress, blockNumber: fromBlock - 1n })
      : 0n;
  const conditions: SQL[] = [
    eq(postings.chainId, chainId),
    eq(postings.account, name),
    eq(postings.token, tokenAddress),
    gte(postings.blockNumber, fromBlock),
    lte(postings.blockNumber, toBlock),
  ];
  const rows = await database.db
    .select({ posting: postings, transactionHash: journalEntries.transactionHash, reference: journalEntries.reference })
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
    .orderBy(asc(postings.blockNumber), asc(postings.logIndex), asc(postings.leg));
  const lines = [
    "type,block_number,block_timestamp,transaction_hash,log_index,kind,reference,counterparty,amount,balance",
  ];
  lines.push(`opening,${fromBlock},,,,,,,,${opening}`);
  let balance = opening;
  for (const { posting, transactionHash, reference } of rows) {
    balance = BigInt(posting.balanceAfter);
    lines.push(
      [
        "entry",
        posting.blockNumber,
        posting.blockTimestamp,
        transactionHash,
        posting.logIndex,
        posting.kind,
        reference ?? "",
        posting.counterparty,
        posting.amount,
        posting.balanceAfter,
      ].join(","),
    );
  }
  lines.push(`closing,${toBlock},,,,,,,,${balance}`);
  return `${lines.join("\n")}\n`;
}
