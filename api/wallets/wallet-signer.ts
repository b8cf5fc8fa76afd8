import type { Signer } from "../../lib/signing/signer.ts";
import type { wallets } from "../db/schema.ts";
import type { AppServices } from "../dependencies.ts";
import { WalletKindError } from "./errors.ts";

export type WalletRow = typeof wallets.$inferSelect;

/**
 * Who signs a movement from `wallet`: the service, for a custodial wallet (the request carries no
 * signature), or the holder, for a self-custody one (the request carries its signature). Returns the
 * custodial wallet's {@link Signer} — the API never sees its key — or `undefined` for a self-custody
 * wallet whose signature the caller verifies.
 * @param signed - whether the request carried the holder's signature
 * @param how - what to send instead, for each mistake's message
 * @throws WalletKindError WALLET_IS_CUSTODIAL (a signature for a custodial wallet), SIGNATURE_REQUIRED (none for a self-custody one)
 */
export function walletSigner(
  services: Pick<AppServices, "custodialKeys">,
  wallet: WalletRow,
  signed: boolean,
  how: { custodial: string; selfCustody: string },
): Signer | undefined {
  if (wallet.kind === "custodial" && wallet.encryptedKey) {
    if (signed) throw new WalletKindError("WALLET_IS_CUSTODIAL", `This is a custodial wallet: ${how.custodial}`);
    return services.custodialKeys.signer({
      walletId: wallet.id,
      address: wallet.address as `0x${string}`,
      keyMaterial: wallet.encryptedKey,
    });
  }
  if (!signed) throw new WalletKindError("SIGNATURE_REQUIRED", `This is a self-custody wallet: ${how.selfCustody}`);
  return undefined;
}
