import { and, eq, inArray, type SQL } from "drizzle-orm";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";

import { NotFoundError } from "../../../../lib/errors/base.ts";
import { audited } from "../../../audit-log/index.ts";
import { moneyMovements } from "../../../db/schema.ts";
import { movementReviews } from "../../../db/security-schema.ts";
import { seqPage } from "../../../db/seq-page.ts";
import { describeMovements } from "../../../movements/describe-movements.ts";
import { approveReview, rejectReview, type MovementReview } from "../../../risk/reviews/decide-review.ts";
import type { AppServices } from "../../../dependencies.ts";
import { errorResponse, idParam, page, paginationQuery } from "../../../schemas/common.ts";
import { movementView } from "../../../schemas/wallets.ts";

const reviewParams = z.object({ reviewId: idParam });
const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse };
const deciders = ["operator", "admin"] as const;
const readers = ["operator", "admin", "auditor"] as const;

const reviewView = z.object({
  id: z.string(),
  status: z.enum(["open", "approved", "rejected"]),
  movement: movementView,
  reasons: z.array(z.object({ code: z.string(), action: z.string(), message: z.string() }).loose()),
  score: z.number().nullable(),
  createdAt: z.date(),
  expiresAt: z.date().nullable(),
  decidedBy: z.string().nullable(),
  decidedAt: z.date().nullable(),
  note: z.string().nullable(),
  reason: z.string().nullable(),
});
type ReviewView = z.input<typeof reviewView>;

/** Reviews with their movements as every view shows them (one read of each). */
async function viewsOf(services: AppServices, reviews: readonly MovementReview[]): Promise<ReviewView[]> {
  if (reviews.length === 0) return [];
  const rows = await services.database.db
    .select()
    .from(moneyMovements)
    .where(
      inArray(
        moneyMovements.id,
        reviews.map((r) => r.movementId),
      ),
    );
  const described = new Map((await describeMovements(services, rows)).map((m) => [m.id, m]));
  return reviews.map((review) => {
    const movement = described.get(review.movementId)!;
    return {
      ...review,
      status: review.status as ReviewView["status"],
      movement: movement as z.input<typeof movementView>,
      reasons: review.reasons as ReviewView["reasons"],
      score: movement.risk?.score ?? null,
    };
  });
}

/**
 * The review queue: movements the risk engine held, for operators to approve (queued exactly once)
 * or reject (declined, with the reason the user sees); auditors read. Every decision is kept on the
 * review (who, when, note or reason).
 */
export const reviewRoutes: FastifyPluginAsyncZod = async (app) => {
  const { services } = app;
  const db = services.database.db;

  app.get(
    "/",
    {
      config: { roles: readers },
      schema: {
        tags: ["reviews"],
        summary: "Held movements and their reviews, newest first (?status=open for the queue)",
        querystring: paginationQuery.extend({ status: z.enum(["open", "approved", "rejected"]).optional() }),
        response: { 200: page(reviewView), ...errors },
      },
    },
    async (request) => {
      const conditions: SQL[] = request.query.status ? [eq(movementReviews.status, request.query.status)] : [];
      const { items, nextCursor } = await seqPage(movementReviews.seq, conditions, request.query, (where, order, n) =>
        db.select().from(movementReviews).where(where).orderBy(order).limit(n),
      );
      return { items: await viewsOf(services, items), nextCursor };
    },
  );

  app.get(
    "/:reviewId",
    {
      config: { roles: readers },
      schema: {
        tags: ["reviews"],
        summary: "One review",
        params: reviewParams,
        response: { 200: reviewView, ...errors },
      },
    },
    async (request) => {
      const [review] = await db
        .select()
        .from(movementReviews)
        .where(and(eq(movementReviews.id, request.params.reviewId)));
      if (!review) throw new NotFoundError("REVIEW_NOT_FOUND", `No review ${request.params.reviewId}`);
      return (await viewsOf(services, [review]))[0]!;
    },
  );

  app.post(
    "/:reviewId/approve",
    {
      config: { roles: deciders },
      schema: {
        tags: ["reviews"],
        summary: "Approve a held movement: it is queued, exactly once (not your own movement)",
        params: reviewParams,
        body: z
          .object({ note: z.string().trim().min(1).max(500).optional() })
          .strict()
          .optional(),
        response: { 200: reviewView, 409: errorResponse, 503: errorResponse, ...errors },
      },
    },
    async (request) => {
      const review = await audited(request, { action: "review.approve", target: request.params.reviewId }, () =>
        approveReview(services, {
          reviewId: request.params.reviewId,
          operator: request.principal!,
          note: request.body?.note,
        }),
      );
      return (await viewsOf(services, [review]))[0]!;
    },
  );

  app.post(
    "/:reviewId/reject",
    {
      config: { roles: deciders },
      schema: {
        tags: ["reviews"],
        summary: "Reject a held movement: it is declined and nothing moves; the user sees the reason",
        params: reviewParams,
        body: z.object({ reason: z.string().trim().min(1).max(500) }).strict(),
        response: { 200: reviewView, 409: errorResponse, ...errors },
      },
    },
    async (request) => {
      const review = await audited(
        request,
        { action: "review.reject", target: request.params.reviewId },
        () =>
          rejectReview(services, {
            reviewId: request.params.reviewId,
            operator: request.principal!,
            reason: request.body.reason,
          }),
        () => ({ details: { reason: request.body.reason } }),
      );
      return (await viewsOf(services, [review]))[0]!;
    },
  );
};
