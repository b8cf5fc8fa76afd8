/**
 * The one door every money movement passes through before it is queued: run the policies
 * (amount, frozen, balance — and later the risk engine and step-up auth), prepare the signed
 * relay request (sign for a custodial wallet, verify a user's signature), record the movement,
 * then hand it to the relayer. Routes never call the relay gateway's enqueueRelay themselves.
 *
 * Inputs: a proposal (who, what kind, from, to, amount) and a `prepare` callback that yields the
 * relay request. Output: the recorded movement with its relay id.
 */
import { randomUUID } from "node:crypto";

import { eq } from "drizzle-orm";
import type { Address } from "viem";

import type { Database } from "../../lib/db/database.ts";
import type { TokenReads } from "../chain/token-reads.ts";
import { apiUsers, moneyMovements } from "../db/schema.ts";
import type { MoneyMovementPolicy } from "./movement-policies.ts";
import { relayIdFor, type RelayGateway, type RelayRequestInput } from "../../relayer/index.ts";

/** What moves money, as recorded in money_movements.kind. */
export type MoneyMovementKind =
  | "transfer"
  | "payment.authorize"
  | "payment.charge"
  | "payment.capture"
  | "payment.void"
  | "payment.refund"
  | "payment.reclaim"
  | "payout";

/** The signed request to queue, produced only after every policy passed. */
export type PreparedRelay = {
  request: RelayRequestInput;
  /** What identifies the movement on chain: an EIP-3009 nonce, a payment hash, a batch id. */
  reference: string;
  /** After this instant the relay is cancelled rather than sent (e.g. an authorization's validBefore). */
  deadline?: Date | undefined;
  details?: Record<string, unknown> | undefined;
};

export type MoneyMovementProposal = {
  kind: MoneyMovementKind;
  userId: string;
  /** The principal's wallet the movement belongs to (payer, sender or merchant); null for a treasury payout. */
  walletId: string | null;
  token: Address;
  from: Address;
  to: Address;
  amount: bigint;
  /**
   * The caller's Idempotency-Key. Scoped here by kind and user, it is the relay's business key:
   * the same request retried after a crash finds its movement and never queues twice.
   */
  idempotencyKey: string;
  /**
   * Builds the relay request: signs with a custodial key, or checks the user's signature (throwing
   * SIGNATURE_INVALID, SIGNER_MISMATCH, …). Called only after every policy passed — never sign
   * what would be refused.
   */
  prepare: () => Promise<PreparedRelay>;
};

export type SubmitMoneyMovementDependencies = {
  database: Database;
  tokenReads: TokenReads;
  policies: MoneyMovementPolicy[];
  relay: RelayGateway;
};

export type MoneyMovement = typeof moneyMovements.$inferSelect;

/**
 * Submits a money movement. Nothing is recorded or queued unless every check passes.
 * @returns the recorded movement, status "queued", with the relay id
 * @throws the first failing check's error (AMOUNT_INVALID, INSUFFICIENT_BALANCE, ACCOUNT_FROZEN, SIGNER_MISMATCH, …)
 */
export async function submitMoneyMovement(
  deps: SubmitMoneyMovementDependencies,
  proposal: MoneyMovementProposal,
): Promise<MoneyMovement> {
  const relayKey = `${proposal.kind}.${proposal.userId}.${proposal.idempotencyKey}`;
  const relayId = relayIdFor(relayKey);
  const [existing] = await deps.database.db.select().from(moneyMovements).where(eq(moneyMovements.relayId, relayId));
  if (existing?.status === "queued") return existing;

  // Read here, once, so no caller can forget it: an operator's freeze stops every money movement.
  const [user] = await deps.database.db
    .select({ frozen: apiUsers.frozen })
    .from(apiUsers)
    .where(eq(apiUsers.id, proposal.userId));
  const userFrozen = user?.frozen ?? false;
  for (const policy of deps.policies) {
    await policy.check({
      kind: proposal.kind,
      userId: proposal.userId,
      userFrozen,
      from: proposal.from,
      to: proposal.to,
      amount: proposal.amount,
    });
  }
  const prepared = await proposal.prepare();

  const id = existing?.id ?? randomUUID();
  if (!existing) {
    await deps.database.db.insert(moneyMovements).values({
      id,
      userId: proposal.userId,
      walletId: proposal.walletId,
      kind: proposal.kind,
      from: proposal.from,
      to: proposal.to,
      token: proposal.token,
      amount: proposal.amount.toString(),
      nonce: prepared.reference,
      status: "pending",
      relayId,
      details: prepared.details ?? {},
    });
  }
  try {
    await deps.relay.enqueueRelay({
      idempotencyKey: relayKey,
      requestedBy: proposal.userId,
      deadline: prepared.deadline,
      request: prepared.request,
    });
  } catch (error) {
    await deps.database.db.update(moneyMovements).set({ status: "rejected" }).where(eq(moneyMovements.id, id));
    throw error;
  }
  const [queued] = await deps.database.db
    .update(moneyMovements)
    .set({ status: "queued" })
    .where(eq(moneyMovements.id, id))
    .returning();
  return queued!;
}
