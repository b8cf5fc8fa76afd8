/**
 * EIP-3009 `ReceiveWithAuthorization` (Stablecoin domain): like TransferWithAuthorization, but only
 * `to` may submit it. The escrow redeems these, so a signature whose nonce is derived from a payment
 * id (a payer's authorization, a refunder's refund) can fund that payment and nothing else.
 */
import type { Hex } from "viem";

import type { Eip712Domain } from "./eip712-domain.ts";
import { eip3009Fields, type Eip3009Authorization } from "./eip3009-fields.ts";
import type { Signer } from "./signer.ts";
import { assertSignedBy } from "./verify-signer.ts";

export const receiveWithAuthorizationTypes = { ReceiveWithAuthorization: eip3009Fields } as const;

/** The typed data a payer or refunder signs for the escrow. */
export function receiveWithAuthorizationTypedData(domain: Eip712Domain, message: Eip3009Authorization) {
  return { domain, types: receiveWithAuthorizationTypes, primaryType: "ReceiveWithAuthorization" as const, message };
}

/** Signs the authorization with `signer`, which must be `message.from`. @returns the 65-byte signature */
export function signReceiveWithAuthorization(
  signer: Signer,
  domain: Eip712Domain,
  message: Eip3009Authorization,
): Promise<Hex> {
  return signer.signTypedData(receiveWithAuthorizationTypedData(domain, message));
}

/** @throws SIGNATURE_INVALID, SIGNER_MISMATCH unless `signature` is `message.from`'s signature of exactly this message */
export function verifyReceiveWithAuthorization(
  domain: Eip712Domain,
  message: Eip3009Authorization,
  signature: Hex,
): Promise<void> {
  return assertSignedBy(receiveWithAuthorizationTypedData(domain, message), signature, message.from, "typed data");
}
