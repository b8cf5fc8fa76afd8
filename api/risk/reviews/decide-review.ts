/**
 * An operator's decision on a held movement. Approve: the review turns `approved` and the movement
 * is queued with the request signed when it was held — exactly once, even if two operators (or
 * two clicks) approve at the same time: only the conditional UPDATE from `open` succeeds, and the
 * relay's job id is the movement's own business key, so a second enqueue would be a no-op anyway.
 * Reject: the review turns `rejected` with the reason the user sees, the movement `declined`, its
 * reservation and its place in the velocity windows released; nothing was ever queued.
 */
import { and, eq } from "drizzle-orm";

import { NotFoundError } from "../../../lib/errors/base.ts";
import type { RelayRequestInput } from "../../../relayer/index.ts";
import type { Principal } from "../../auth/principal.ts";
import { moneyMovements } from "../../db/schema.ts";
import { movementReviews } from "../../db/security-schema.ts";
import type { AppServices } from "../../dependencies.ts";
import { ReviewAlreadyDecidedError, ReviewExpiredError, ReviewOwnMovementError } from "../risk-errors.ts";
import { releaseFromWindows } from "../velocity-windows.ts";

export type MovementReview = typeof movementReviews.$inferSelect;

type Deps = Pick<AppServices, "database" | "relay" | "redis" | "redisPrefix">;

async function openReview(deps: Deps, reviewId: string, operator: Principal): Promise<MovementReview> {
  const [review] = await deps.database.db.select().from(movementReviews).where(eq(movementReviews.id, reviewId));
  if (!review) throw new NotFoundError("REVIEW_NOT_FOUND", `No review ${reviewId}`);
  if (review.userId === operator.userId) throw new ReviewOwnMovementError();
  if (review.status !== "open") throw new ReviewAlreadyDecidedError(review.id, review.status);
  return review;
}

/** Claims the open review for this decision; a concurrent decision that came first wins. */
async function claim(
  deps: Deps,
  review: MovementReview,
  set: Partial<typeof movementReviews.$inferInsert>,
): Promise<MovementReview> {
  const [claimed] = await deps.database.db
    .update(movementReviews)
    .set(set)
    .where(and(eq(movementReviews.id, review.id), eq(movementReviews.status, "open")))
    .returning();
  if (!claimed) {
    const [now] = await deps.database.db.select().from(movementReviews).where(eq(movementReviews.id, review.id));
    throw new ReviewAlreadyDecidedError(review.id, now?.status ?? "decided");
  }
  return claimed;
}

/**
 * Approves a held movement and queues it.
 * @throws REVIEW_NOT_FOUND, REVIEW_OWN_MOVEMENT, REVIEW_ALREADY_DECIDED, REVIEW_EXPIRED,
 *   RELAY_QUEUE_UNAVAILABLE (the movement is then `rejected`: the user's retry re-queues it)
 */
export async function approveReview(
  deps: Deps,
  p: { reviewId: string; operator: Principal; note?: string | undefined },
): Promise<MovementReview> {
  const review = await openReview(deps, p.reviewId, p.operator);
  if (review.expiresAt && review.expiresAt.getTime() <= Date.now()) {
    throw new ReviewExpiredError(review.id, review.expiresAt);
  }
  const decided = await claim(deps, review, {
    status: "approved",
    decidedBy: p.operator.userId,
    decidedAt: new Date(),
    note: p.note ?? null,
  });
  const db = deps.database.db;
  const [movement] = await db
    .update(moneyMovements)
    .set({ status: "pending" })
    .where(and(eq(moneyMovements.id, review.movementId), eq(moneyMovements.status, "held")))
    .returning();
  if (!movement) return decided;
  try {
    await deps.relay.enqueueRelay({
      idempotencyKey: (movement.details as { relayKey: string }).relayKey,
      requestedBy: movement.userId,
      deadline: movement.relayDeadline ?? undefined,
      request: movement.relayRequest as RelayRequestInput,
    });
  } catch (error) {
    await db.update(moneyMovements).set({ status: "rejected" }).where(eq(moneyMovements.id, movement.id));
    throw error;
  }
  await db.update(moneyMovements).set({ status: "queued" }).where(eq(moneyMovements.id, movement.id));
  return decided;
}

/**
 * Rejects a held movement: it is declined, and `reason` is what its owner sees.
 * @throws REVIEW_NOT_FOUND, REVIEW_OWN_MOVEMENT, REVIEW_ALREADY_DECIDED
 */
export async function rejectReview(
  deps: Deps,
  p: { reviewId: string; operator: Principal; reason: string },
): Promise<MovementReview> {
  const review = await openReview(deps, p.reviewId, p.operator);
  const decided = await claim(deps, review, {
    status: "rejected",
    decidedBy: p.operator.userId,
    decidedAt: new Date(),
    reason: p.reason,
  });
  const [movement] = await deps.database.db
    .update(moneyMovements)
    .set({ status: "declined" })
    .where(and(eq(moneyMovements.id, review.movementId), eq(moneyMovements.status, "held")))
    .returning();
  if (movement) {
    await releaseFromWindows(deps.redis, deps.redisPrefix, movement.userId, {
      id: movement.id,
      amount: BigInt(movement.amount),
      to: movement.to,
    });
  }
  return decided;
}
