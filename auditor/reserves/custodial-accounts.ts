import { sql } from "drizzle-orm";
import { getAddress, type Address } from "viem";

import type { Database } from "../../lib/db/database.ts";
import { NotFoundError } from "../../lib/errors/base.ts";

/** A custodial wallet: the platform holds its key, so its balance is the platform's liability to the user. */
export type CustodialAccount = { userId: string; address: Address };

/**
 * The custodial wallets, read-only from the API's `wallets` table (kind `custodial`) — the one table
 * outside the ledger the auditor reads: it says whose balances the platform owes.
 * @throws NotFoundError AUDIT_NO_WALLETS when the database has no wallets table (a ledger-only database)
 */
export async function readCustodialAccounts(database: Database): Promise<CustodialAccount[]> {
  try {
    const rows = await database.query<{ user_id: string; address: string }>(
      sql`SELECT user_id::text AS user_id, address FROM wallets WHERE kind = 'custodial' ORDER BY wallets.address`,
    );
    return rows.map((row) => ({ userId: row.user_id, address: getAddress(row.address) }));
  } catch (error) {
    throw new NotFoundError(
      "AUDIT_NO_WALLETS",
      "This database has no wallets table: proofs of reserves need the API's database (custodial wallets)",
      { cause: error },
    );
  }
}
