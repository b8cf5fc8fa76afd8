/**
 * EIP-3009 `TransferWithAuthorization` (Stablecoin domain): the holder's signed permission to move
 * `value` to `to`, which anyone may submit — how custodial and self-custody wallets send without gas.
 */
import type { Hex, PublicClient } from "viem";

import type { Eip712Domain } from "./eip712-domain.ts";
import { eip3009Fields, type Eip3009Authorization } from "./eip3009-fields.ts";
import type { Signer } from "./signer.ts";
import { assertSignedBy } from "./verify-signer.ts";

export const transferWithAuthorizationTypes = { TransferWithAuthorization: eip3009Fields } as const;

/** The typed data a holder signs (what GET …/transfers/typed-data returns, and what a custodial signer signs). */
export function transferWithAuthorizationTypedData(domain: Eip712Domain, message: Eip3009Authorization) {
  return { domain, types: transferWithAuthorizationTypes, primaryType: "TransferWithAuthorization" as const, message };
}

/** Signs the authorization with `signer`, which must be `message.from`. @returns the 65-byte signature */
export function signTransferWithAuthorization(
  signer: Signer,
  domain: Eip712Domain,
  message: Eip3009Authorization,
): Promise<Hex> {
  return signer.signTypedData(transferWithAuthorizationTypedData(domain, message));
}

/** @throws SIGNATURE_INVALID, SIGNER_MISMATCH unless `signature` is `message.from`'s signature of exactly this message */
export function verifyTransferWithAuthorization(
  domain: Eip712Domain,
  message: Eip3009Authorization,
  signature: Hex,
): Promise<void> {
  return assertSignedBy(transferWithAuthorizationTypedData(domain, message), signature, message.from, "typed data");
}

/**
 * Whether `signature` is `message.from`'s signature of the authorization as the token will judge it:
 * ECDSA for an account's key, else ERC-1271 through the chain (a contract wallet). For payers whose
 * wallets the stack does not know (x402 clients), where the ECDSA-only check would refuse a smart wallet.
 */
export function isTransferWithAuthorizationSignedBy(
  client: PublicClient,
  domain: Eip712Domain,
  message: Eip3009Authorization,
  signature: Hex,
): Promise<boolean> {
  return client
    .verifyTypedData({ address: message.from, ...transferWithAuthorizationTypedData(domain, message), signature })
    .catch(() => false);
}
