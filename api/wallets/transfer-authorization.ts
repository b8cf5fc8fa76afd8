import { randomBytes } from "node:crypto";

import type { Address, Hex } from "viem";

import { transferWithAuthorizationTypes } from "../../lib/chain/typed-data.ts";

export type TokenDomain = { name: string; version: string; chainId: number; verifyingContract: Address };

export type TransferAuthorization = {
  from: Address;
  to: Address;
  value: bigint;
  validAfter: bigint;
  validBefore: bigint;
  nonce: Hex;
};

/** A fresh random 32-byte EIP-3009 nonce. */
export function randomAuthorizationNonce(): Hex {
  return `0x${randomBytes(32).toString("hex")}`;
}

/**
 * The EIP-712 typed data a holder signs to authorize a transfer (what GET …/typed-data returns,
 * and what the service signs for custodial wallets).
 */
export function transferAuthorizationTypedData(domain: TokenDomain, message: TransferAuthorization) {
  return { domain, types: transferWithAuthorizationTypes, primaryType: "TransferWithAuthorization" as const, message };
}

/** An authorization with its 65-byte signature (by the holder, or by this service for a custodial wallet). */
export type SignedTransfer = { authorization: TransferAuthorization; signature: Hex };

/**
 * The relay request that executes a signed authorization (`token.transferWithAuthorization`),
 * cancelled rather than sent once validBefore has passed.
 */
export function transferRelay(token: Address, authorization: TransferAuthorization, signature: Hex) {
  return {
    request: {
      kind: "token.transferWithAuthorization" as const,
      token,
      from: authorization.from,
      to: authorization.to,
      value: authorization.value.toString(),
      validAfter: authorization.validAfter.toString(),
      validBefore: authorization.validBefore.toString(),
      nonce: authorization.nonce,
      signature,
    },
    reference: authorization.nonce,
    deadline: new Date(Number(authorization.validBefore) * 1000),
    details: { validAfter: authorization.validAfter.toString(), validBefore: authorization.validBefore.toString() },
  };
}
