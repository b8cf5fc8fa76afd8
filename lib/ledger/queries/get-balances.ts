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
      : // One index probe per token the account ever held (its latest posting at or before the
        // block), so the cost does not grow with the account's history; a token first held after
        // the block has no posting there and no row.
        await database.query<{ token: string; balance: string; block_number: string }>(
          balancesAtBlockStatement(chainId, name, blockNumber),
        );
  return rows.map((row) => ({
    token: getAddress(row.token),
    balance: BigInt(row.balance),
    lastChangeBlock: BigInt(row.block_number),
  }));
}

/** The balance-at-block statement (also explained by bench/api/ledger-reads.ts). */
export function balancesAtBlockStatement(chainId: number, account: string, blockNumber: bigint | number) {
  return sql`
    SELECT b.token, p.balance_after AS balance, p.block_number
    FROM account_balances b CROSS JOIN LATERAL (
      SELECT balance_after, block_number FROM postings p
      WHERE p.chain_id = b.chain_id AND p.account = b.account AND p.token = b.token
        AND p.block_number <= ${blockNumber}
      ORDER BY p.block_number DESC, p.log_index DESC, p.leg DESC LIMIT 1) p
    WHERE b.chain_id = ${chainId} AND b.account = ${account}
    ORDER BY b.token`;
}
