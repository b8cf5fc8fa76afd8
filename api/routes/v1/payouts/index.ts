import { seqPage } from "../../../db/seq-page.ts";
import { eq } from "drizzle-orm";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";

import { NotFoundError } from "../../../../lib/errors/base.ts";
import { payoutBatches } from "../../../db/schema.ts";
import { payoutView as showPayout } from "../../../payouts/payout-view.ts";
import { submitPayout, type PayoutBatchRow } from "../../../payouts/submit-payout.ts";
import { createPayoutBody, payoutView } from "../../../schemas/payouts.ts";
import { errorResponse, idParam, page, paginationQuery } from "../../../schemas/common.ts";

const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse };
const staff = ["operator", "auditor", "admin"] as const;

/**
 * Batched merchant payouts from the settlement treasury: operators send them (one Settlement.payout
 * transaction per batch, through the money door, Idempotency-Key required); staff read them.
 * Merchants see their payouts in their wallet history and receive `settlement.payout_item_paid` webhooks.
 */
export const payoutRoutes: FastifyPluginAsyncZod = async (app) => {
  const { services } = app;
  const { database } = services;
  const view = async (row: PayoutBatchRow) => (await showPayout(services, row)) as z.input<typeof payoutView>;

  app.post(
    "/",
    {
      config: { roles: ["operator", "admin"], idempotent: true },
      schema: {
        tags: ["payouts"],
        summary: "Pay many merchants from the settlement treasury in one transaction (Idempotency-Key required)",
        headers: z.object({ "idempotency-key": z.string().optional() }).loose(),
        body: createPayoutBody,
        response: { 202: payoutView, 409: errorResponse, 422: errorResponse, 503: errorResponse, ...errors },
      },
    },
    async (request, reply) => {
      const row = await submitPayout(services, {
        principal: request.principal!,
        batchId: request.body.batchId,
        items: request.body.items,
        idempotencyKey: String(request.headers["idempotency-key"]),
      });
      return reply.status(202).send(await view(row));
    },
  );

  app.get(
    "/",
    {
      config: { roles: staff },
      schema: {
        tags: ["payouts"],
        summary: "Payout batches, newest first",
        querystring: paginationQuery,
        response: { 200: page(payoutView), ...errors },
      },
    },
    async (request) => {
      const { items, nextCursor } = await seqPage(payoutBatches.seq, [], request.query, (where, order, rows) =>
        database.db.select().from(payoutBatches).where(where).orderBy(order).limit(rows),
      );
      return { items: await Promise.all((items as PayoutBatchRow[]).map(view)), nextCursor };
    },
  );

  app.get(
    "/:payoutId",
    {
      config: { roles: staff },
      schema: {
        tags: ["payouts"],
        summary: "One payout batch with its items and status",
        params: z.object({ payoutId: idParam }),
        response: { 200: payoutView, ...errors },
      },
    },
    async (request) => {
      const [row] = await database.db.select().from(payoutBatches).where(eq(payoutBatches.id, request.params.payoutId));
      if (!row) throw new NotFoundError("PAYOUT_NOT_FOUND", "No such payout batch");
      return view(row as PayoutBatchRow);
    },
  );
};
