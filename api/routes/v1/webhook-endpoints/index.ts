import { seqPage } from "../../../db/seq-page.ts";
import { randomBytes, randomUUID } from "node:crypto";

import { eq } from "drizzle-orm";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";

import { NotFoundError } from "../../../../lib/errors/base.ts";
import { webhookDeliveries, webhookEndpoints } from "../../../db/schema.ts";
import { assertOwner } from "../../../auth/access.ts";
import type { Principal } from "../../../auth/principal.ts";
import { errorResponse, idParam, page, paginationQuery } from "../../../schemas/common.ts";

const endpointView = z.object({ id: z.string(), url: z.string(), createdAt: z.date() });
const deliveryView = z.object({
  id: z.string(),
  eventId: z.string(),
  eventType: z.string(),
  status: z.string(),
  responseStatus: z.number().nullable(),
  attempts: z.number(),
  createdAt: z.date(),
});
const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse };
const newSecret = () => `whsec_${randomBytes(32).toString("base64url")}`;

/**
 * Merchant webhook endpoints: create (secret shown once), rotate the secret (old and new both sign
 * until the next rotation), and the delivery log. Signature format: api/webhooks/signature.ts.
 */
export const webhookEndpointRoutes: FastifyPluginAsyncZod = async (app) => {
  const db = app.services.database.db;
  const loadEndpoint = async (principal: Principal | undefined, id: string) => {
    const [endpoint] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id));
    if (!endpoint) throw new NotFoundError("WEBHOOK_ENDPOINT_NOT_FOUND", "No such webhook endpoint");
    assertOwner(principal, endpoint.userId);
    return endpoint;
  };

  app.post(
    "/",
    {
      config: { roles: ["merchant"] },
      schema: {
        tags: ["webhooks"],
        summary: "Register an HTTPS endpoint for payment and settlement events; the signing secret is shown only here",
        body: z.object({ url: z.url({ protocol: /^https?$/ }) }).strict(),
        response: { 201: endpointView.extend({ secret: z.string() }), ...errors },
      },
    },
    async (request, reply) => {
      const secret = newSecret();
      const [row] = await db
        .insert(webhookEndpoints)
        .values({ id: randomUUID(), userId: request.principal!.userId, url: request.body.url, secrets: [secret] })
        .returning();
      return reply.status(201).send({ ...row!, secret });
    },
  );

  app.post(
    "/:endpointId/rotate-secret",
    {
      config: { roles: ["merchant"] },
      schema: {
        tags: ["webhooks"],
        summary: "Start signing with a new secret; the previous one keeps signing too until the next rotation",
        params: z.object({ endpointId: idParam }),
        response: { 200: endpointView.extend({ secret: z.string() }), ...errors },
      },
    },
    async (request) => {
      const endpoint = await loadEndpoint(request.principal, request.params.endpointId);
      const secret = newSecret();
      const [row] = await db
        .update(webhookEndpoints)
        .set({ secrets: [secret, (endpoint.secrets as string[])[0]!] })
        .where(eq(webhookEndpoints.id, endpoint.id))
        .returning();
      return { ...row!, secret };
    },
  );

  app.get(
    "/:endpointId/deliveries",
    {
      config: { roles: ["merchant", "operator", "auditor", "admin"] },
      schema: {
        tags: ["webhooks"],
        summary: "The endpoint's delivery log, newest first",
        params: z.object({ endpointId: idParam }),
        querystring: paginationQuery,
        response: { 200: page(deliveryView), ...errors },
      },
    },
    async (request) => {
      const endpoint = await loadEndpoint(request.principal, request.params.endpointId);
      return seqPage(
        webhookDeliveries.seq,
        [eq(webhookDeliveries.endpointId, endpoint.id)],
        request.query,
        (where, order, rows) => db.select().from(webhookDeliveries).where(where).orderBy(order).limit(rows),
      );
    },
  );
};
