import type { Address } from "viem";

import { StablerailError, ValidationError } from "../../lib/errors/base.ts";
import { randomAuthorizationNonce } from "../../lib/signing/eip3009-fields.ts";
import { transferWithAuthorizationTypedData } from "../../lib/signing/transfer-with-authorization.ts";
import type { Principal } from "../auth/principal.ts";
import type { AppServices } from "../dependencies.ts";
import { loadOwnedWallet } from "./load-owned-wallet.ts";

export type TransferTypedDataInput = {
  principal: Principal;
  walletId: string;
  to: Address;
  amount: bigint;
  validAfter?: bigint | undefined;
  validBefore?: bigint | undefined;
};

/**
 * The EIP-3009 TransferWithAuthorization a self-custody holder signs to send `amount` to `to`
 * (GET …/transfers/typed-data): a fresh random nonce, valid from `validAfter` (default 0) until
 * `validBefore` (default: chain time + API_AUTHORIZATION_TTL_SECONDS). Typed data that could never be
 * relayed — expired by chain time, or an empty window — is refused rather than handed out.
 * @throws AUTHORIZATION_EXPIRED (validBefore not after chain time), VALIDATION_FAILED (validAfter ≥ validBefore)
 */
export async function transferTypedData(
  services: Pick<AppServices, "database" | "tokenReads" | "settings">,
  input: TransferTypedDataInput,
) {
  const wallet = await loadOwnedWallet(services.database, input.principal, input.walletId, { write: true });
  const now = await services.tokenReads.chainTime();
  const validAfter = input.validAfter ?? 0n;
  const validBefore = input.validBefore ?? now + BigInt(services.settings.authorizationTtlSeconds);
  if (validBefore <= now) {
    throw new StablerailError(
      "AUTHORIZATION_EXPIRED",
      `validBefore ${validBefore} is not after chain time ${now}: such an authorization can never be relayed`,
    );
  }
  if (validAfter >= validBefore) {
    throw new ValidationError("VALIDATION_FAILED", "validAfter must be below validBefore", {
      details: { issues: [{ path: "/validAfter", message: "must be below validBefore" }] },
    });
  }
  return transferWithAuthorizationTypedData(await services.tokenReads.domain(), {
    from: wallet.address as Address,
    to: input.to,
    value: input.amount,
    validAfter,
    validBefore,
    nonce: randomAuthorizationNonce(),
  });
}
