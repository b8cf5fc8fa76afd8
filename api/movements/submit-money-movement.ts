/**
 * The one door every money movement passes through before it is queued: run the policies
 * (amount, recipient, frozen, balance — and later the risk engine and step-up auth), prepare the
 * signed relay request (sign for a custodial wallet, verify a user's signature), record the
 * movement with that request, then hand it to the relayer. Routes never call the relay gateway's
 * enqueueRelay themselves.
 *
 * Retries: the relay id comes from (kind, user, Idempotency-Key). A movement already queued is
 * returned as it is. One the queue refused (`rejected`, or `pending` after a crash) is queued again
 * with the request recorded the first time — never a newly signed one: the first job may exist
 * after all (its reply was lost), and BullMQ keeps the first request under the relay id, so the
 * record, the 202 and the chain always name the same nonce (issue 11, defect 5).
 *
 * Inputs: a proposal (who, what kind, from, to, amount) and a `prepare` callback that yields the
 * relay request. Output: the recorded movement with its relay id.
 */
import { randomUUID } from "node:crypto";

import { eq } from "drizzle-orm";
import type { Address } from "viem";

import type { Database } from "../../lib/db/database.ts";
import { StablerailError } from "../../lib/errors/base.ts";
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
   * what would be refused — and once per movement: a retry re-queues what it returned. It gets the
   * movement's and the relay's ids, so rows it claims can name them at once.
   */
  prepare: (movement: { movementId: string; relayId: string }) => Promise<PreparedRelay>;
  /**
   * Addresses the caller chose to pay beyond `to` (a payout's items), checked by the recipient and
   * frozen policies like `to`.
   */
  payees?: readonly Address[] | undefined;
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
 * @throws the first failing check's error (AMOUNT_INVALID, RECIPIENT_INVALID, INSUFFICIENT_BALANCE,
 *   ACCOUNT_FROZEN, SIGNER_MISMATCH, …); AUTHORIZATION_EXPIRED when a refused movement is retried
 *   after its recorded request expired; RELAY_QUEUE_UNAVAILABLE (the movement stays `rejected`)
 */
export async function submitMoneyMovement(
  deps: SubmitMoneyMovementDependencies,
  proposal: MoneyMovementProposal,
): Promise<MoneyMovement> {
  const db = deps.database.db;
  const relayKey = `${proposal.kind}.${proposal.userId}.${proposal.idempotencyKey}`;
  const relayId = relayIdFor(relayKey);
  const [existing] = await db.select().from(moneyMovements).where(eq(moneyMovements.relayId, relayId));
  if (existing && existing.status !== "pending" && existing.status !== "rejected") return existing;

  // Read here, once, so no caller can forget it: an operator's freeze stops every money movement.
  const [user] = await db.select({ frozen: apiUsers.frozen }).from(apiUsers).where(eq(apiUsers.id, proposal.userId));
  const userFrozen = user?.frozen ?? false;
  for (const policy of deps.policies) {
    await policy.check({
      kind: proposal.kind,
      userId: proposal.userId,
      userFrozen,
      from: proposal.from,
      to: proposal.to,
      payees: proposal.payees ?? [],
      amount: proposal.amount,
    });
  }

  let movementId: string;
  let queued: { request: RelayRequestInput; deadline: Date | undefined };
  if (existing?.relayRequest) {
    // A retry of a movement the queue refused: the request recorded then, whatever happens.
    movementId = existing.id;
    queued = { request: existing.relayRequest as RelayRequestInput, deadline: existing.relayDeadline ?? undefined };
    if (queued.deadline && queued.deadline.getTime() <= Date.now()) {
      throw new StablerailError(
        "AUTHORIZATION_EXPIRED",
        "This movement was refused by the queue and its authorization has expired since; send it again with a new Idempotency-Key",
        { details: { movementId } },
      );
    }
  } else {
    movementId = existing?.id ?? randomUUID();
    const prepared = await proposal.prepare({ movementId, relayId });
    queued = { request: prepared.request, deadline: prepared.deadline };
    const recorded = {
      nonce: prepared.reference,
      details: prepared.details ?? {},
      relayRequest: prepared.request,
      relayDeadline: prepared.deadline ?? null,
      status: "pending",
    };
    if (existing) {
      // Recorded before this rule (no request kept): record what is queued now.
      await db.update(moneyMovements).set(recorded).where(eq(moneyMovements.id, movementId));
    } else {
      await db.insert(moneyMovements).values({
        id: movementId,
        userId: proposal.userId,
        walletId: proposal.walletId,
        kind: proposal.kind,
        from: proposal.from,
        to: proposal.to,
        token: proposal.token,
        amount: proposal.amount.toString(),
        relayId,
        ...recorded,
      });
    }
  }
  try {
    await deps.relay.enqueueRelay({
      idempotencyKey: relayKey,
      requestedBy: proposal.userId,
      deadline: queued.deadline,
      request: queued.request,
    });
  } catch (error) {
    await db.update(moneyMovements).set({ status: "rejected" }).where(eq(moneyMovements.id, movementId));
    throw error;
  }
  const [row] = await db
    .update(moneyMovements)
    .set({ status: "queued" })
    .where(eq(moneyMovements.id, movementId))
    .returning();
  return row!;
}
