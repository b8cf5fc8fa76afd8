import type { Address, Hex } from "viem";

import { receiveWithAuthorizationTypes } from "../../lib/chain/typed-data.ts";
import type { TokenReads } from "../chain/token-reads.ts";
import { checkAuthorizationSignature } from "../money/check-authorization-signature.ts";
import type { TokenDomain } from "../wallets/transfer-authorization.ts";

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
 * Checks a payer's signed ReceiveWithAuthorization before anything is queued (signer, window by
 * chain time, the payment id not yet used as a nonce on chain); see checkAuthorizationSignature.
 */
export async function verifyReceiveAuthorization(
  token: TokenReads,
  authorization: ReceiveAuthorization,
  signature: Hex,
): Promise<void> {
  await checkAuthorizationSignature(
    token,
    receiveAuthorizationTypedData(await token.domain(), authorization),
    authorization,
    signature,
  );
}
