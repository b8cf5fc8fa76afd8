import { getAddress, recoverTypedDataAddress, type Address, type Hex } from "viem";

import { ValidationError } from "../../lib/errors/base.ts";
import type { TokenReads } from "../chain/token-reads.ts";
import { ConflictError } from "../errors/api-errors.ts";
import type { TokenDomain } from "../wallets/transfer-authorization.ts";

/** EIP-3009 ReceiveWithAuthorization, as the Stablecoin hashes it. */
export const receiveWithAuthorizationTypes = {
  ReceiveWithAuthorization: [
    { name: "from", type: "address" },
    { name: "to", type: "address" },
    { name: "value", type: "uint256" },
    { name: "validAfter", type: "uint256" },
    { name: "validBefore", type: "uint256" },
    { name: "nonce", type: "bytes32" },
  ],
} as const;

/** A payer's authorization to the escrow: `to` = PaymentEscrow, `nonce` = the payment id. */
export type ReceiveAuthorization = {
  from: Address;
  to: Address;
  value: bigint;
  validAfter: bigint;
  validBefore: bigint;
  nonce: Hex;
};

/** The typed data a payer signs so the escrow may pull the payment (GET …/typed-data, custodial signing). */
export function receiveAuthorizationTypedData(domain: TokenDomain, message: ReceiveAuthorization) {
  return {
    domain,
    types: receiveWithAuthorizationTypes,
    primaryType: "ReceiveWithAuthorization" as const,
    message,
  };
}

/**
 * Checks a payer's signed ReceiveWithAuthorization before anything is queued: SIGNATURE_INVALID,
 * SIGNER_MISMATCH (not the payer's wallet), AUTHORIZATION_NOT_YET_VALID / AUTHORIZATION_EXPIRED (chain
 * time), AUTHORIZATION_NONCE_USED (the payment id is already used as a nonce on chain).
 */
export async function verifyReceiveAuthorization(
  token: TokenReads,
  authorization: ReceiveAuthorization,
  signature: Hex,
): Promise<void> {
  let signer: Address;
  try {
    signer = await recoverTypedDataAddress({
      ...receiveAuthorizationTypedData(await token.domain(), authorization),
      signature,
    });
  } catch (error) {
    throw new ValidationError("SIGNATURE_INVALID", "The signature is not a valid signature of the typed data", {
      cause: error,
    });
  }
  if (getAddress(signer) !== getAddress(authorization.from)) {
    throw new ValidationError(
      "SIGNER_MISMATCH",
      "The typed data was signed by another key than the paying wallet; sign the typed data GET …/typed-data returned",
      { details: { expected: authorization.from, recovered: getAddress(signer) } },
    );
  }
  const now = await token.chainTime();
  if (authorization.validAfter >= now) {
    throw new ValidationError(
      "AUTHORIZATION_NOT_YET_VALID",
      `The authorization is valid only after ${authorization.validAfter}; chain time is ${now}`,
    );
  }
  if (authorization.validBefore <= now) {
    throw new ValidationError(
      "AUTHORIZATION_EXPIRED",
      `The authorization expired at ${authorization.validBefore}; chain time is ${now}; sign a new one`,
    );
  }
  if (await token.isAuthorizationUsed(authorization.from, authorization.nonce)) {
    throw new ConflictError("AUTHORIZATION_NONCE_USED", "This payment was already authorized on chain");
  }
}

