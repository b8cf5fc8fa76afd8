import { and, eq, ne } from "drizzle-orm";
import type { Hex } from "viem";

import type { Database } from "../../lib/db/database.ts";
import { moneyMovements } from "../db/schema.ts";

import type { TokenReads } from "../chain/token-reads.ts";
import { ConflictError } from "../errors/api-errors.ts";
import { checkAuthorizationSignature } from "./check-authorization-signature.ts";
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
  await checkAuthorizationSignature(
    token,
    transferAuthorizationTypedData(await token.domain(), authorization),
    authorization,
    signature,
  );
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
