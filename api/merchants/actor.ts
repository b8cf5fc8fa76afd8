import { eq } from "drizzle-orm";
import type { Hex } from "viem";

import { apiUsers, type wallets } from "../db/schema.ts";
import type { AppServices } from "../dependencies.ts";
import { decryptPrivateKey } from "../wallets/key-encryption.ts";
import { PaymentWalletError } from "./errors.ts";

/** Whether the user's account is frozen in the API (an operator's decision). */
export async function isUserFrozen(services: Pick<AppServices, "database">, userId: string): Promise<boolean> {
  const [user] = await services.database.db
    .select({ frozen: apiUsers.frozen })
    .from(apiUsers)
    .where(eq(apiUsers.id, userId));
  return user?.frozen ?? false;
}

/** The custodial key of a wallet, or WALLET_NOT_CUSTODIAL when the service does not hold it. */
export function custodialKeyOf(
  services: Pick<AppServices, "keyEncryptionKey">,
  wallet: typeof wallets.$inferSelect,
  action: string,
): Hex {
  if (wallet.kind !== "custodial" || !wallet.encryptedKey) {
    throw new PaymentWalletError(
      "WALLET_NOT_CUSTODIAL",
      `${action} is signed by the service for custodial wallets only; this wallet is self-custody`,
    );
  }
  return decryptPrivateKey(services.keyEncryptionKey, wallet.id, wallet.encryptedKey);
}
