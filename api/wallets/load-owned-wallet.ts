import { eq, sql } from "drizzle-orm";

import type { Database } from "../../lib/db/database.ts";
import { preparedOnce } from "../../lib/db/prepared.ts";
import { NotFoundError } from "../../lib/errors/base.ts";
import { assertOwner } from "../auth/access.ts";
import type { Principal } from "../auth/principal.ts";
import { wallets } from "../db/schema.ts";
import { WalletNotFoundError } from "./errors.ts";
import type { WalletRow } from "./wallet-signer.ts";

// Every wallet route reads this: built once (lib/db/prepared.ts).
const walletById = preparedOnce((db) =>
  db
    .select()
    .from(wallets)
    .where(eq(wallets.id, sql.placeholder("walletId"))),
);

/**
 * Loads a wallet `principal` may see (its owner, or staff reading) — or, with `write`, move money
 * from (its owner only). Strangers get 404 WALLET_NOT_FOUND, whether or not it exists.
 */
export async function loadOwnedWallet(
  database: Database,
  principal: Principal | undefined,
  walletId: string,
  { write = false } = {},
): Promise<WalletRow> {
  const [wallet] = await walletById(database.db).execute({ walletId });
  if (!wallet) throw new WalletNotFoundError();
  try {
    assertOwner(principal, wallet.userId, { write });
  } catch (error) {
    if (error instanceof NotFoundError) throw new WalletNotFoundError();
    throw error;
  }
  return wallet;
}
