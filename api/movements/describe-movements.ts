import { inArray } from "drizzle-orm";

import { getIndexedHead } from "../../lib/ledger/queries/get-indexed-head.ts";
import { movementReviews } from "../db/security-schema.ts";
import type { RiskRecord } from "../risk/decide-movement.ts";
import type { AppServices } from "../dependencies.ts";
import { movementState, type MovementState } from "./movement-state.ts";
import type { MoneyMovement } from "./submit-money-movement.ts";

/** A held movement's review as its owner sees it: why it was declined, once decided. */
export type MovementReviewSummary = { id: string; status: string; reason: string | null; decidedAt: Date | null };

/** A recorded movement with where it stands (movementState), its transaction once sent and its review if held. */
export type DescribedMovement = Omit<MoneyMovement, "status" | "risk"> & {
  status: MovementState;
  /** The risk engine's decision (null on movements made before it). */
  risk: RiskRecord | null;
  transactionHash: string | null;
  review: MovementReviewSummary | null;
};

/**
 * Adds each movement's state, transaction hash and review: one read of their relays, one of the
 * indexed head and one of the reviews of those the risk engine held, whatever the number of
 * movements. Reads only.
 */
export async function describeMovements(
  services: Pick<AppServices, "database" | "relay" | "chainId">,
  movements: readonly MoneyMovement[],
): Promise<DescribedMovement[]> {
  if (movements.length === 0) return [];
  const relayIds = movements.flatMap((m) => (m.relayId ? [m.relayId] : []));
  const reviewed = movements.filter((m) => (m.risk as { decision?: string } | null)?.decision === "review");
  const [relays, head, reviews] = await Promise.all([
    services.relay.getRelays(relayIds),
    getIndexedHead(services.database, { chainId: services.chainId }),
    reviewed.length > 0
      ? services.database.db
          .select()
          .from(movementReviews)
          .where(
            inArray(
              movementReviews.movementId,
              reviewed.map((m) => m.id),
            ),
          )
      : Promise.resolve([]),
  ]);
  const reviewOf = new Map(reviews.map((r) => [r.movementId, r]));
  return movements.map((movement) => {
    const relay = movement.relayId ? relays.get(movement.relayId) : undefined;
    return {
      ...movement,
      risk: movement.risk as RiskRecord | null,
      status: movementState(movement.status, relay, head?.number),
      transactionHash: relay?.transactionHash ?? null,
      review: summaryOf(reviewOf.get(movement.id)),
    };
  });
}

function summaryOf(review: typeof movementReviews.$inferSelect | undefined): MovementReviewSummary | null {
  return review ? { id: review.id, status: review.status, reason: review.reason, decidedAt: review.decidedAt } : null;
}
