import type { Address, Hex, RecoverTypedDataAddressParameters } from "viem";

import { StablerailError } from "../../lib/errors/base.ts";
import type { TokenReads } from "../chain/token-reads.ts";
import { ConflictError } from "../errors/api-errors.ts";
import { assertSignedBy } from "./assert-signed-by.ts";

/** What every EIP-3009 authorization carries that the token checks besides the signature. */
export type AuthorizationWindow = { from: Address; validAfter: bigint; validBefore: bigint; nonce: Hex };

/**
 * The checks the token will make of a signed EIP-3009 authorization (transfer or receive), made
 * before anything is queued so the client gets a code it can act on instead of a failed relay:
 * SIGNATURE_INVALID (not a signature), SIGNER_MISMATCH (signed by another key than `from`),
 * AUTHORIZATION_NOT_YET_VALID / AUTHORIZATION_EXPIRED (by chain time, as the token judges),
 * AUTHORIZATION_NONCE_USED (`authorizationState` on chain).
 */
export async function checkAuthorizationSignature(
  token: TokenReads,
  typedData: Omit<RecoverTypedDataAddressParameters, "signature">,
  authorization: AuthorizationWindow,
  signature: Hex,
): Promise<void> {
  await assertSignedBy(typedData, signature, authorization.from, "typed data");
  const now = await token.chainTime();
  if (authorization.validAfter >= now) {
    throw new StablerailError(
      "AUTHORIZATION_NOT_YET_VALID",
      `The authorization is valid only after ${authorization.validAfter}; chain time is ${now}`,
    );
  }
  if (authorization.validBefore <= now) {
    throw new StablerailError(
      "AUTHORIZATION_EXPIRED",
      `The authorization expired at ${authorization.validBefore}; chain time is ${now}; sign a new one`,
    );
  }
  if (await token.isAuthorizationUsed(authorization.from, authorization.nonce)) {
    throw new ConflictError(
      "AUTHORIZATION_NONCE_USED",
      "This authorization nonce is already used on chain; sign with a fresh nonce",
    );
  }
}
