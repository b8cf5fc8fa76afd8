import { eq } from "drizzle-orm";
import type { Hex } from "viem";

import { siweRequesterOf, verifySiweSignIn } from "../auth/sign-in-with-ethereum.ts";
import type { Principal } from "../auth/principal.ts";
import { wallets } from "../db/schema.ts";
import type { AppServices } from "../dependencies.ts";
import { ConflictError } from "../errors/api-errors.ts";
import type { WalletRow } from "./wallet-signer.ts";

/**
 * Registers a self-custody address for `principal`, proved by a Sign-In with Ethereum message its
 * key signed (nonce from GET /v1/auth/siwe/nonce, asked for with the principal's own credential:
 * the nonce is bound to it). The service never holds a key for it.
 * @throws ConflictError WALLET_ALREADY_REGISTERED, the SIWE errors
 */
export async function registerSelfCustodyWallet(
  services: Pick<AppServices, "database" | "publicClient" | "redis" | "redisPrefix" | "settings" | "chainId">,
  principal: Principal,
  proof: { message: string; signature: Hex },
): Promise<WalletRow> {
  const address = await verifySiweSignIn(services, siweRequesterOf({ principal, ip: "" }), proof);
  const db = services.database.db;
  const [existing] = await db.select({ id: wallets.id }).from(wallets).where(eq(wallets.address, address));
  if (existing) throw new ConflictError("WALLET_ALREADY_REGISTERED", "This address is already registered");
  const [row] = await db
    .insert(wallets)
    .values({ id: crypto.randomUUID(), userId: principal.userId, kind: "self_custody", address })
    .returning();
  return row!;
}
