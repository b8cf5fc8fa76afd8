/**
 * The checks the token will make of a signed EIP-3009 authorization, made before anything is
 * queued so the client gets a code it can act on instead of a failed relay:
 * SIGNATURE_INVALID (not a signature), SIGNER_MISMATCH (signed by another key than `from`),
 * AUTHORIZATION_NOT_YET_VALID / AUTHORIZATION_EXPIRED (by chain time, as the token judges),
 * AUTHORIZATION_NONCE_USED (`authorizationState` on chain — and, for transfers, a movement already
 * queued with the same nonce and not yet mined).
 */
import { and, eq, ne } from "drizzle-orm";
import type { Hex } from "viem";

import type { Database } from "../../lib/db/database.ts";
import { StablerailError } from "../../lib/errors/base.ts";
import type { Eip3009Authorization } from "../../lib/signing/eip3009-fields.ts";
import { verifyReceiveWithAuthorization } from "../../lib/signing/receive-with-authorization.ts";
import { verifyTransferWithAuthorization } from "../../lib/signing/transfer-with-authorization.ts";
import type { TokenReads } from "../chain/token-reads.ts";
import { moneyMovements } from "../db/schema.ts";
import { ConflictError } from "../errors/api-errors.ts";

/** Checks a signed TransferWithAuthorization (see the module's codes). */
export async function checkTransferAuthorization(
  deps: { database: Database; tokenReads: TokenReads },
  authorization: Eip3009Authorization,
  signature: Hex,
): Promise<void> {
  await verifyTransferWithAuthorization(await deps.tokenReads.domain(), authorization, signature);
  await checkWindowAndNonce(deps.tokenReads, authorization);
  // Queued but not yet mined: the chain does not know the nonce yet, our movements do.
  const [pending] = await deps.database.db
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

/** Checks a signed ReceiveWithAuthorization to the escrow (a payer's, or a refunder's) (see the module's codes). */
export async function checkReceiveAuthorization(
  tokenReads: TokenReads,
  authorization: Eip3009Authorization,
  signature: Hex,
): Promise<void> {
  await verifyReceiveWithAuthorization(await tokenReads.domain(), authorization, signature);
  await checkWindowAndNonce(tokenReads, authorization);
}

async function checkWindowAndNonce(token: TokenReads, authorization: Eip3009Authorization): Promise<void> {
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
