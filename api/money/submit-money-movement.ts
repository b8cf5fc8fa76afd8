/**
 * The one door every money movement passes through before it is queued: validate, run the
 * policies (amount, frozen, balance — and later the risk engine and step-up auth), record the
 * pending movement, then hand it to the relayer's enqueueRelay. Routes never call enqueueRelay.
 *
 * Inputs: the principal's wallet, a signed EIP-3009 authorization (signed by the user for
 * self-custody, by this service for custodial wallets). Output: the recorded movement.
 */
import { randomUUID } from "node:crypto";

import { eq } from "drizzle-orm";
import type { Address, Hex } from "viem";

import type { Database } from "../../lib/db/database.ts";
import { moneyMovements } from "../db/schema.ts";
import type { TransferAuthorization } from "../wallets/transfer-authorization.ts";
import type { MoneyMovementPolicy } from "./policy.ts";
import type { RelayGateway } from "./relay-gateway.ts";
import type { TokenReads } from "../chain/token-reads.ts";
import { verifyTransferAuthorization } from "./verify-transfer-authorization.ts";

export type SignedTransfer = { authorization: TransferAuthorization; signature: Hex };

export type SubmitTransferParameters = {
  userId: string;
  userFrozen: boolean;
  walletId: string;
  token: Address;
  /**
   * Self-custody: the authorization the user signed. Custodial: the intended movement and a
   * `sign` callback, called only after every policy passed (never sign what would be refused).
   */
  transfer: SignedTransfer | { from: Address; to: Address; value: bigint; sign: () => Promise<SignedTransfer> };
  /** The caller's Idempotency-Key, scoped by user, as the relay's business key. */
  idempotencyKey: string;
};

export type SubmitMoneyMovementDependencies = {
  database: Database;
  tokenReads: TokenReads;
  policies: MoneyMovementPolicy[];
  relay: RelayGateway;
};

export type MoneyMovement = typeof moneyMovements.$inferSelect;

/**
 * Submits a transfer. Nothing is recorded or queued unless every check passes.
 * @returns the recorded movement, status "queued", with the relay id
 * @throws the first failing check's error (SIGNATURE_INVALID, INSUFFICIENT_BALANCE, ACCOUNT_FROZEN, …)
 */
export async function submitMoneyMovement(
  deps: SubmitMoneyMovementDependencies,
  parameters: SubmitTransferParameters,
): Promise<MoneyMovement> {
  const { transfer } = parameters;
  const intended = "sign" in transfer ? transfer : transfer.authorization;
  const proposed = {
    userId: parameters.userId,
    userFrozen: parameters.userFrozen,
    from: intended.from,
    to: intended.to,
    amount: intended.value,
  };
  for (const policy of deps.policies) await policy.check(proposed);
  const { authorization, signature } = "sign" in transfer ? await transfer.sign() : transfer;
  await verifyTransferAuthorization(deps.tokenReads, authorization, signature);

  const id = randomUUID();
  await deps.database.db
    .insert(moneyMovements)
    .values({
      id,
      userId: parameters.userId,
      walletId: parameters.walletId,
      kind: "transfer",
      from: authorization.from,
      to: authorization.to,
      token: parameters.token,
      amount: authorization.value.toString(),
      nonce: authorization.nonce,
      status: "pending",
      details: { validAfter: authorization.validAfter.toString(), validBefore: authorization.validBefore.toString() },
    })
    .returning();
  try {
    const { relayId } = await deps.relay.enqueueRelay({
      kind: "transferWithAuthorization",
      idempotencyKey: `transfer-${id}`,
      requestedBy: parameters.userId,
      token: parameters.token,
      ...authorization,
      signature,
    });
    const [queued] = await deps.database.db
      .update(moneyMovements)
      .set({ status: "queued", relayId })
      .where(eq(moneyMovements.id, id))
      .returning();
    return queued!;
  } catch (error) {
    await deps.database.db.update(moneyMovements).set({ status: "rejected" }).where(eq(moneyMovements.id, id));
    throw error;
  }
}
