import { and, eq, ne } from "drizzle-orm";
import { getAddress, recoverTypedDataAddress, type Hex } from "viem";

import type { Database } from "../../lib/db/database.ts";
import { moneyMovements } from "../db/schema.ts";

import { StablerailError, ValidationError } from "../../lib/errors/base.ts";
import type { TokenReads } from "../chain/token-reads.ts";
import { ConflictError } from "../errors/api-errors.ts";
import { transferAuthorizationTypedData, type TransferAuthorization } from "../wallets/transfer-authorization.ts";

/**
 * Checks a signed EIP-3009 TransferWithAuthorization before anything is queued, with the codes
 * a client can act on: SIGNATURE_INVALID (not a signature), SIGNER_MISMATCH (signed by someone
 * other than `from`), AUTHORIZATION_NOT_YET_VALID / AUTHORIZATION_EXPIRED (by chain time, as the
 * token judges), AUTHORIZATION_NONCE_USED (`authorizationState` on chain, or a movement already
 * queued with the same nonce and not yet mined).
 */
export async function verifyTransferAuthorization(
  database: Database,
  token: TokenReads,
  authorization: TransferAuthorization,
  signature: Hex,
): Promise<void> {
  const typedData = transferAuthorizationTypedData(await token.domain(), authorization);
  let signer: string;
  try {
    signer = await recoverTypedDataAddress({ ...typedData, signature });
  } catch (error) {
    throw new ValidationError(
      "SIGNATURE_INVALID",
      "The signature is not a valid 65-byte ECDSA signature of the typed data",
      { cause: error },
    );
  }
  if (getAddress(signer) !== getAddress(authorization.from)) {
    throw new StablerailError(
      "SIGNER_MISMATCH",
      "The typed data was signed by another key than `from`; sign the exact typed data GET …/typed-data returned",
      {
        details: { expected: authorization.from, recovered: getAddress(signer) },
      },
    );
  }
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
  // Queued but not yet mined: the chain does not know the nonce yet, our movements do.
  const [pending] = await database.db
    .select({ id: moneyMovements.id })
    .from(moneyMovements)
    .where(
      and(
        eq(moneyMovements.from, authorization.from),
        eq(moneyMovements.nonce, authorization.nonce),
        ne(moneyMovements.status, "rejected"),
      ),
    )
    .limit(1);
  if (pending) {
    throw new ConflictError(
      "AUTHORIZATION_NONCE_USED",
      "This authorization nonce is already used by a queued movement; sign with a fresh nonce",
      { details: { movementId: pending.id } },
    );
  }
}
