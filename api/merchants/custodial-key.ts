import type { Hex } from "viem";

import type { wallets } from "../db/schema.ts";
import type { AppServices } from "../dependencies.ts";
import { decryptPrivateKey } from "../wallets/key-encryption.ts";
import { PaymentWalletError } from "./errors.ts";

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
