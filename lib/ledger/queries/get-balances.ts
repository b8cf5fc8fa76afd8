import { sql } from "drizzle-orm";
import { getAddress, type Address } from "viem";

import type { Database } from "../../db/database.ts";
import { normalizeAccount } from "../accounts.ts";

export type GetBalancesParameters = {
  chainId: number;
  /** An account name or a bare address (its holder account). */
  account: string;
  /** As of the end of this block; omitted = the indexed head. */
  blockNumber?: bigint | undefined;
};

export type TokenBalance = { token: Address; balance: bigint; lastChangeBlock: bigint };

/**
 * Balances of one account in every token it ever held, now or as of an indexed block.
 * @returns one row per token, zero balances included (the account once held it)
 */
export async function getBalances(
  database: Database,
  { chainId, account, blockNumber }: GetBalancesParameters,
): Promise<TokenBalance[]> {
  const name = normalizeAccount(account);
  const rows =
    blockNumber === undefined
      ? await database.query<{ token: string; balance: string; block_number: string }>(
          sql`SELECT token, balance, block_number FROM account_balances WHERE chain_id = ${chainId} AND account = ${name} ORDER BY token`,
        )
      : await database.query<{ token: string; balance: string; block_number: string }>(sql`
          SELECT DISTINCT ON (token) token, balance_after AS balance, block_number FROM postings
          WHERE chain_id = ${chainId} AND account = ${name} AND block_number <= ${blockNumber}
          ORDER BY token, block_number DESC, log_index DESC, leg DESC`);
  return rows.map((row) => ({
    token: getAddress(row.token),
    balance: BigInt(row.balance),
    lastChangeBlock: BigInt(row.block_number),
  }));
}
