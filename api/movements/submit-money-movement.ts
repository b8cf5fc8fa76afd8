/**
 * The one door every money movement passes through before it is queued: run the policies
 * (amount, recipient, frozen, available balance), then the risk engine (api/risk/: screening,
 * limits, velocity, the learned score) to allow / step_up / review / deny, then prepare the signed
 * relay request (sign for a custodial wallet, verify a user's signature), screen the parties the
 * signed request really names, record the movement with its risk decision and request, then hand
 * it to the relayer — or hold it for an operator's review. Routes never call the relay gateway's
 * enqueueRelay themselves.
 *
 * Reservation: from the policies to the recording of the movement the door holds the sender's
 * lock (available-balance.ts), so a second concurrent send sees the first one's funds reserved.
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

import { eq, sql } from "drizzle-orm";
import type { Redis } from "ioredis";
import type { Address } from "viem";

import type { Database, Db } from "../../lib/db/database.ts";
import { encodedOrNull, nullablePlaceholder, preparedOnce } from "../../lib/db/prepared.ts";
import { StablerailError } from "../../lib/errors/base.ts";
import type { TokenReads } from "../chain/token-reads.ts";
import { apiUsers, moneyMovements } from "../db/schema.ts";
import { movementReviews } from "../db/security-schema.ts";
import type { Principal } from "../auth/principal.ts";
import type { RiskRecord } from "../risk/decide-movement.ts";
import { assessMovement } from "../risk/assess-movement.ts";
import { canonicalMovement, movementDigest } from "../risk/movement-digest.ts";
import { realParties } from "../risk/real-parties.ts";
import { currentRequest, STEP_UP_HEADER } from "../risk/request-context.ts";
import {
  MovementDeniedError,
  SecondFactorNotEnrolledError,
  StepUpRequiredError,
  TravelRuleRequiredError,
} from "../risk/risk-errors.ts";
import { answerNotKept } from "../plugins/idempotency.ts";
import type { RiskReason } from "../risk/rules.ts";
import { screenParties } from "../risk/screening/screen-addresses.ts";
import { requireStepUp, type StepUpApprovals } from "../risk/step-up.ts";
import { travelRuleRecord, type TravelRuleInput } from "../risk/travel-rule.ts";
import { reservedFunds, unfinishedFromSql, withSenderLock } from "./available-balance.ts";
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
  /** A self-custody authorization's validBefore (seconds), part of the digest a step-up approves. */
  deadline?: bigint | undefined;
  /** Originator and beneficiary data, required above the travel-rule threshold off the platform. */
  travelRule?: TravelRuleInput | undefined;
};

export type SubmitMoneyMovementDependencies = {
  database: Database;
  tokenReads: TokenReads;
  policies: MoneyMovementPolicy[];
  relay: RelayGateway;
  redis: Redis;
  redisPrefix: string;
  chainId: number;
  contracts: { paymentEscrow: Address };
  stepUpApprovals?: StepUpApprovals | undefined;
};

export type MoneyMovement = typeof moneyMovements.$inferSelect;

// The door's statements of constant shape, run on every movement: built once (lib/db/prepared.ts).
/**
 * The door's first read, under the sender's lock, in one statement (one round trip, not three): the
 * movement already recorded under this relay id (a retry), the user's standing — read here, once, so
 * no caller can forget it: an operator's freeze stops every money movement — and what the user's
 * other unfinished movements from `from` reserve (available-balance.ts). Driven by a one-row
 * relation, so it answers one row whether or not the user or the movement is found.
 */
export function doorReadQuery(db: Db) {
  const relayId = sql.placeholder("relayId");
  const userId = sql.placeholder("userId");
  return db
    .select({
      movement: moneyMovements,
      frozen: apiUsers.frozen,
      tier: apiUsers.tier,
      unfinished: unfinishedFromSql({ from: sql.placeholder("from"), userId, exceptRelayId: relayId }),
    })
    .from(sql`(SELECT 1) AS door`)
    .leftJoin(apiUsers, eq(apiUsers.id, userId))
    .leftJoin(moneyMovements, eq(moneyMovements.relayId, relayId))
    .limit(1);
}
const doorRead = preparedOnce(doorReadQuery);

/** What {@link doorRead} found: the standing and reservation {@link decideAndRecord} decides with. */
type DoorFacts = { frozen: boolean; tier: string | undefined; unfinished: bigint };

/** The record of a new movement that passed (status `pending`, its signed request). */
const insertMovement = preparedOnce((db) =>
  db
    .insert(moneyMovements)
    .values({
      id: sql.placeholder("id"),
      userId: sql.placeholder("userId"),
      walletId: sql.placeholder("walletId"),
      kind: sql.placeholder("kind"),
      from: sql.placeholder("from"),
      to: sql.placeholder("to"),
      token: sql.placeholder("token"),
      amount: sql.placeholder("amount"),
      relayId: sql.placeholder("relayId"),
      nonce: sql.placeholder("nonce"),
      details: sql.placeholder("details"),
      relayRequest: sql.placeholder("relayRequest"),
      relayDeadline: nullablePlaceholder("relayDeadline"),
      status: sql.placeholder("status"),
      risk: sql.placeholder("risk"),
      travelRule: nullablePlaceholder("travelRule"),
    })
    .returning(),
);

/** {@link insertMovement}'s placeholders, its nullable ones encoded as drizzle's builder would. */
function insertedMovement(
  identity: ReturnType<typeof movementIdentity>,
  values: {
    nonce: string;
    details: Record<string, unknown>;
    relayRequest: unknown;
    relayDeadline: Date | null;
    status: string;
    risk: unknown;
    travelRule: unknown;
  },
) {
  return {
    ...identity,
    ...values,
    relayDeadline: encodedOrNull(moneyMovements.relayDeadline, values.relayDeadline),
    travelRule: encodedOrNull(moneyMovements.travelRule, values.travelRule),
  };
}

const markQueued = preparedOnce((db) =>
  db
    .update(moneyMovements)
    .set({ status: "queued" })
    .where(eq(moneyMovements.id, sql.placeholder("movementId")))
    .returning(),
);

/**
 * Submits a money movement. Nothing is signed, recorded or queued unless every check passes; a
 * denied movement is recorded (status `denied`, its reasons) and nothing else; a held one is
 * signed and recorded (`held`) with its review, and queued only when an operator approves it.
 * @returns the recorded movement: status "queued" with the relay id, or "held"
 * @throws the first failing check's error (AMOUNT_INVALID, RECIPIENT_INVALID, INSUFFICIENT_BALANCE,
 *   ACCOUNT_FROZEN, SIGNER_MISMATCH, …); MOVEMENT_DENIED, STEP_UP_REQUIRED,
 *   SECOND_FACTOR_NOT_ENROLLED, TRAVEL_RULE_REQUIRED from the risk engine; AUTHORIZATION_EXPIRED
 *   when a refused movement is retried after its recorded request expired; RELAY_QUEUE_UNAVAILABLE
 *   (the movement stays `rejected`)
 */
export async function submitMoneyMovement(
  deps: SubmitMoneyMovementDependencies,
  proposal: MoneyMovementProposal,
): Promise<MoneyMovement> {
  const db = deps.database.db;
  const relayKey = `${proposal.kind}.${proposal.userId}.${proposal.idempotencyKey}`;
  const relayId = relayIdFor(relayKey);
  // Read under the lock only (a retry waits for the lock like a first request): one read, and the
  // same request sent concurrently finds what the other recorded.
  const recorded = await withSenderLock(deps.redis, deps.redisPrefix, proposal.from, async () => {
    const [read] = await doorRead(db).execute({ relayId, userId: proposal.userId, from: proposal.from });
    const current = read?.movement ?? undefined;
    if (current && current.status !== "pending" && current.status !== "rejected") return { row: current, done: true };
    const facts: DoorFacts = {
      frozen: read?.frozen ?? false,
      tier: read?.tier ?? undefined,
      unfinished: BigInt(read?.unfinished ?? 0),
    };
    // One head for the movement's chain reads, read after the reservations (decideAndRecord): a relay
    // mined in between is then both reserved and in the balance read — counted twice, never missed.
    const row = await deps.tokenReads.pinned(() => decideAndRecord(deps, proposal, current, relayId, relayKey, facts));
    return { row, done: false };
  }).catch((error: unknown) => {
    // An ask, not an answer: the same request (same Idempotency-Key) comes again with what it asked for.
    const request = currentRequest();
    if (request && isAsk(error)) answerNotKept(request);
    throw error;
  });
  if (recorded.done && recorded.row.status === "denied") {
    throw new MovementDeniedError(
      recorded.row.id,
      ((recorded.row.risk as RiskRecord | null)?.reasons ?? []) as RiskReason[],
    );
  }
  if (recorded.done || recorded.row.status === "held") return recorded.row;
  const movement = recorded.row;
  try {
    await deps.relay.enqueueRelay({
      idempotencyKey: relayKey,
      requestedBy: proposal.userId,
      deadline: movement.relayDeadline ?? undefined,
      request: movement.relayRequest as RelayRequestInput,
    });
  } catch (error) {
    await db.update(moneyMovements).set({ status: "rejected" }).where(eq(moneyMovements.id, movement.id));
    throw error;
  }
  const [row] = await markQueued(db).execute({ movementId: movement.id });
  return row!;
}

const isAsk = (error: unknown) =>
  error instanceof StepUpRequiredError ||
  error instanceof SecondFactorNotEnrolledError ||
  error instanceof TravelRuleRequiredError ||
  // The auth module's refusal of an approval (with a fresh challenge): approve again, same key.
  (error instanceof StablerailError && error.code === "STEP_UP_APPROVAL_INVALID");

/** Policies, risk decision, prepare, screening of the signed request, record — under the sender's lock. */
async function decideAndRecord(
  deps: SubmitMoneyMovementDependencies,
  proposal: MoneyMovementProposal,
  existing: MoneyMovement | undefined,
  relayId: string,
  relayKey: string,
  facts: DoorFacts,
): Promise<MoneyMovement> {
  const db = deps.database.db;
  const movementId = existing?.id ?? randomUUID();
  const reserved = await reservedFunds(deps, {
    userId: proposal.userId,
    from: proposal.from,
    unfinished: facts.unfinished,
    exceptId: movementId,
    exceptRelayId: relayId,
    kind: proposal.kind,
  });
  for (const policy of deps.policies) {
    await policy.check({
      kind: proposal.kind,
      userId: proposal.userId,
      userFrozen: facts.frozen,
      from: proposal.from,
      to: proposal.to,
      payees: proposal.payees ?? [],
      amount: proposal.amount,
      reserved,
    });
  }

  if (existing?.relayRequest) {
    // A retry of a movement the queue refused: decided and signed then; queue that request, whatever happens.
    const deadline = existing.relayDeadline;
    if (deadline && deadline.getTime() <= Date.now()) {
      throw new StablerailError(
        "AUTHORIZATION_EXPIRED",
        "This movement was refused by the queue and its authorization has expired since; send it again with a new Idempotency-Key",
        { details: { movementId } },
      );
    }
    return existing;
  }

  const request = currentRequest();
  const principal: Principal | undefined = request?.principal;
  const assessment = await assessMovement(deps, {
    movementId,
    userId: proposal.userId,
    kind: proposal.kind,
    from: proposal.from,
    to: proposal.to,
    amount: proposal.amount,
    payees: proposal.payees ?? [],
    principal,
    tier: facts.tier,
  });
  let accepted = false;
  try {
    const risk = assessment.record;
    const deny = async (reasons: RiskReason[]): Promise<never> => {
      await recordDenied(deps, proposal, movementId, relayId, { ...risk, decision: "deny", reasons }, existing);
      throw new MovementDeniedError(movementId, reasons);
    };
    if (risk.decision === "deny") await deny(risk.reasons);

    const threshold = assessment.ruleSet.travelRule ? BigInt(assessment.ruleSet.travelRule.threshold) : undefined;
    const travelRuleNeeded =
      proposal.kind === "transfer" &&
      threshold !== undefined &&
      proposal.amount > threshold &&
      !assessment.recipientOnPlatform;
    if (travelRuleNeeded && !proposal.travelRule) throw new TravelRuleRequiredError(threshold);

    if (risk.decision === "step_up") {
      const canonical = canonicalMovement({ ...proposal, chainId: deps.chainId });
      const header = request?.headers[STEP_UP_HEADER];
      risk.stepUp = await requireStepUp(
        { database: deps.database, approvals: deps.stepUpApprovals },
        {
          userId: proposal.userId,
          canonical,
          digest: movementDigest(canonical),
          reasons: risk.reasons.filter((r) => r.action === "step_up"),
          token: typeof header === "string" ? header : undefined,
        },
      );
    }

    const prepared = await proposal.prepare({ movementId, relayId });
    // The request as signed may name other parties than the proposal (a user's own signature, a
    // forwarded call): screen what will really move.
    // The proposal's parties were screened with the risk facts; only others need a look-up.
    const screened = new Set([proposal.from, proposal.to, ...(proposal.payees ?? [])].map((a) => a.toLowerCase()));
    const inner = await screenParties(
      deps.database,
      realParties(prepared.request, deps.contracts.paymentEscrow)
        .filter((address) => !screened.has(address.toLowerCase()))
        .map((address) => ({ party: "signed request", address })),
    );
    if (inner) {
      await deny([
        {
          code: "SCREENING_MATCH",
          action: "deny",
          message: "A party of the signed request is on a screening denylist",
          details: { ...inner },
        },
      ]);
    }

    const held = risk.decision === "review";
    const values = {
      nonce: prepared.reference,
      // A held movement keeps its relay key: an operator's approval queues it under the same job id.
      details: held ? { ...prepared.details, relayKey } : (prepared.details ?? {}),
      relayRequest: prepared.request,
      relayDeadline: prepared.deadline ?? null,
      status: held ? "held" : "pending",
      risk,
      travelRule:
        travelRuleNeeded && proposal.travelRule
          ? travelRuleRecord(proposal.travelRule, proposal.from, proposal.to, threshold!)
          : null,
    };
    // One statement needs no transaction (two round trips fewer); a held movement writes its review with it.
    const row = !held
      ? existing
        ? (await db.update(moneyMovements).set(values).where(eq(moneyMovements.id, movementId)).returning())[0]!
        : (
            await insertMovement(db).execute(insertedMovement(movementIdentity(proposal, movementId, relayId), values))
          )[0]!
      : await db.transaction(async (tx) => {
          const [written] = existing
            ? await tx.update(moneyMovements).set(values).where(eq(moneyMovements.id, movementId)).returning()
            : await tx
                .insert(moneyMovements)
                .values({ ...movementIdentity(proposal, movementId, relayId), ...values })
                .returning();
          if (held) {
            await tx.insert(movementReviews).values({
              id: randomUUID(),
              movementId,
              userId: proposal.userId,
              status: "open",
              reasons: risk.reasons,
              expiresAt: prepared.deadline ?? null,
            });
          }
          return written!;
        });
    accepted = true;
    return row;
  } finally {
    if (!accepted) await assessment.release();
  }
}

/** Records a refused movement: its decision and reasons, no request — nothing was or will be signed. */
async function recordDenied(
  deps: SubmitMoneyMovementDependencies,
  proposal: MoneyMovementProposal,
  movementId: string,
  relayId: string,
  risk: RiskRecord,
  existing: MoneyMovement | undefined,
): Promise<void> {
  const values = { status: "denied", risk, nonce: `denied-${movementId}`, relayRequest: null, relayDeadline: null };
  if (existing) {
    await deps.database.db.update(moneyMovements).set(values).where(eq(moneyMovements.id, movementId));
    return;
  }
  await deps.database.db
    .insert(moneyMovements)
    .values({ ...movementIdentity(proposal, movementId, relayId), ...values });
}

/** The columns that name a movement, fixed at its first record whatever becomes of it. */
function movementIdentity(proposal: MoneyMovementProposal, movementId: string, relayId: string) {
  return {
    id: movementId,
    userId: proposal.userId,
    walletId: proposal.walletId,
    kind: proposal.kind,
    from: proposal.from,
    to: proposal.to,
    token: proposal.token,
    amount: proposal.amount.toString(),
    relayId,
  };
}
