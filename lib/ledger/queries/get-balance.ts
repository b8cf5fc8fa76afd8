import { and, desc, eq, lte } from "drizzle-orm";
import { getAddress, type Address } from "viem";

import type { Database } from "../../db/database.ts";
import { normalizeAccount } from "../accounts.ts";
import { accountBalances, postings } from "../schema.ts";

export type GetBalanceParameters = {
  chainId: number;
  /** `holder:<address>`, `issuance:<token>`, `escrow:<paymentId>`, or a bare address (its holder account). */
  account: string;
  token: Address;
  /** Balance as of the end of this block; omitted = the indexed head. */
  blockNumber?: bigint | undefined;
};

/**
 * Balance of one account in one token, now or as of an indexed block. Issuance accounts are
 * negative (−totalSupply). One index probe either way: the current-balance row, or the last
 * posting at or before the block (its running `balance_after`).
 * @returns the balance in base units (0n for an account never touched)
 * @example
 * await getBalance(database, { chainId: 31337, account: "0xf39F…2266", token }); // 1_000_000n
 */
export async function getBalance(
  database: Database,
  { chainId, account, token, blockNumber }: GetBalanceParameters,
): Promise<bigint> {
  const name = normalizeAccount(account);
  token = getAddress(token);
  if (blockNumber === undefined) {
    const [row] = await database.db
      .select({ balance: accountBalances.balance })
      .from(accountBalances)
      .where(
        and(eq(accountBalances.chainId, chainId), eq(accountBalances.account, name), eq(accountBalances.token, token)),
      );
    return BigInt(row?.balance ?? 0);
  }
  const [row] = await database.db
    .select({ balance: postings.balanceAfter })
    .from(postings)
    .where(
      and(
        eq(postings.chainId, chainId),
        eq(postings.account, name),
        eq(postings.token, token),
        lte(postings.blockNumber, blockNumber),
      ),
    )
    .orderBy(desc(postings.blockNumber), desc(postings.logIndex), desc(postings.leg))
    .limit(1);
  return BigInt(row?.balance ?? 0);
}
