import { eq } from "drizzle-orm";
import type { FastifyRequest } from "fastify";

import type { Database } from "../../lib/db/database.ts";
import { NotFoundError } from "../../lib/errors/base.ts";
import { wallets } from "../db/schema.ts";
import { assertOwner } from "../plugins/auth.ts";

/**
 * Loads a wallet the caller may see (its owner, or staff reading) — or, with `write`, move money
 * from (its owner only). Strangers get 404 WALLET_NOT_FOUND, whether or not it exists.
 */
export async function loadOwnedWallet(
  database: Database,
  request: FastifyRequest,
  walletId: string,
  { write = false } = {},
) {
  const [wallet] = await database.db.select().from(wallets).where(eq(wallets.id, walletId));
  if (!wallet) throw new NotFoundError("WALLET_NOT_FOUND", "No such wallet");
  try {
    assertOwner(request, wallet.userId, { write });
  } catch (error) {
    if (error instanceof NotFoundError) throw new NotFoundError("WALLET_NOT_FOUND", "No such wallet");
    throw error;
  }
  return wallet;
}
