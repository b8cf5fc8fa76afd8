import { Queue } from "bullmq";
import { eq } from "drizzle-orm";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";

import { readsEverything } from "../../../auth/principal.ts";
import { webhookDeliveries, webhookEndpoints } from "../../../db/schema.ts";
import { seqPage } from "../../../db/seq-page.ts";
import { errorResponse, idParam, page, paginationQuery } from "../../../schemas/common.ts";
import { loadWebhookEndpoint } from "../../../webhooks/endpoints/load-webhook-endpoint.ts";
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  rotateWebhookSecret,
  updateWebhookEndpoint,
} from "../../../webhooks/endpoints/manage-webhook-endpoints.ts";
import { retryWebhookDelivery } from "../../../webhooks/retry-webhook-delivery.ts";
import { WEBHOOK_QUEUE_NAME, type WebhookJob } from "../../../webhooks/webhook-queue.ts";

const endpointView = z.object({
  id: z.string(),
  url: z.string(),
  enabled: z.boolean().describe("a disabled endpoint receives nothing until enabled again"),
  createdAt: z.date(),
  updatedAt: z.date(),
});
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
const params = z.object({ endpointId: idParam });
const url = z
  .string()
  .max(2048)
  .describe("https URL on a public address (private, loopback, link-local and metadata addresses are refused)");
const readers = ["merchant", "operator", "auditor", "admin"] as const;
const idempotencyHeader = z.object({ "idempotency-key": z.string().optional() }).loose();

/**
 * Merchant webhook endpoints: register (secret shown once), list, read, change the URL or turn it
 * off and on, rotate the secret (old and new both sign until the next rotation), delete, and the
 * delivery log, and a retry of a failed delivery. Use cases: api/webhooks/endpoints/,
 * api/webhooks/retry-webhook-delivery.ts. Signature format: api/webhooks/signature.ts.
 */
export const webhookEndpointRoutes: FastifyPluginAsyncZod = async (app) => {
  const { services } = app;
  const db = services.database.db;
  // The delivery queue, producer side, on a connection of its own (BullMQ loads its scripts onto the
  // client); the API's options, so a retry fails fast (503) while Redis is down.
  const queueConnection = services.redis.duplicate();
  queueConnection.on("error", () => undefined);
  const webhookQueue = new Queue<WebhookJob>(WEBHOOK_QUEUE_NAME, {
    connection: queueConnection,
    prefix: `${services.redisPrefix}:bull`,
  });
  app.addHook("onClose", async () => {
    await webhookQueue.close();
    queueConnection.disconnect();
  });

  app.post(
    "/",
    {
      config: { roles: ["merchant"] },
      schema: {
        tags: ["webhooks"],
        summary: "Register an HTTPS endpoint for payment and settlement events; the signing secret is shown only here",
        body: z.object({ url }).strict(),
        response: { 201: endpointView.extend({ secret: z.string() }), 409: errorResponse, ...errors },
      },
    },
    async (request, reply) =>
      reply
        .header("cache-control", "no-store")
        .status(201)
        .send(await createWebhookEndpoint(services, request.principal!, request.body.url)),
  );

  app.get(
    "/",
    {
      config: { roles: readers },
      schema: {
        tags: ["webhooks"],
        summary: "Your webhook endpoints, newest first (staff: everyone's)",
        querystring: paginationQuery,
        response: { 200: page(endpointView), ...errors },
      },
    },
    async (request) => {
      const principal = request.principal!;
      const conditions = readsEverything(principal.role) ? [] : [eq(webhookEndpoints.userId, principal.userId)];
      return seqPage(webhookEndpoints.seq, conditions, request.query, (where, order, rows) =>
        db.select().from(webhookEndpoints).where(where).orderBy(order).limit(rows),
      );
    },
  );

  app.get(
    "/:endpointId",
    {
      config: { roles: readers },
      schema: {
        tags: ["webhooks"],
        summary: "One webhook endpoint",
        params,
        response: { 200: endpointView, ...errors },
      },
    },
    async (request) => loadWebhookEndpoint(services.database, request.principal, request.params.endpointId),
  );

  app.patch(
    "/:endpointId",
    {
      config: { roles: ["merchant"] },
      schema: {
        tags: ["webhooks"],
        summary: "Change the URL (checked like a new one) or disable / enable the endpoint",
        params,
        body: z
          .object({ url: url.optional(), enabled: z.boolean().optional() })
          .strict()
          .refine((body) => body.url !== undefined || body.enabled !== undefined, "give url, enabled or both"),
        response: { 200: endpointView, ...errors },
      },
    },
    async (request) => updateWebhookEndpoint(services, request.principal!, request.params.endpointId, request.body),
  );

  app.delete(
    "/:endpointId",
    {
      config: { roles: ["merchant"] },
      schema: {
        tags: ["webhooks"],
        summary: "Delete the endpoint: nothing more is delivered to it",
        params,
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      await deleteWebhookEndpoint(services, request.principal!, request.params.endpointId);
      return reply.status(204).send(null);
    },
  );

  app.post(
    "/:endpointId/rotate-secret",
    {
      config: { roles: ["merchant"] },
      schema: {
        tags: ["webhooks"],
        summary: "Start signing with a new secret; the previous one keeps signing too until the next rotation",
        params,
        response: { 200: endpointView.extend({ secret: z.string() }), ...errors },
      },
    },
    async (request, reply) =>
      reply
        .header("cache-control", "no-store")
        .send(await rotateWebhookSecret(services, request.principal!, request.params.endpointId)),
  );

  app.get(
    "/:endpointId/deliveries",
    {
      config: { roles: readers },
      schema: {
        tags: ["webhooks"],
        summary: "The endpoint's delivery log, newest first",
        params,
        querystring: paginationQuery,
        response: { 200: page(deliveryView), ...errors },
      },
    },
    async (request) => {
      const endpoint = await loadWebhookEndpoint(services.database, request.principal, request.params.endpointId);
      return seqPage(
        webhookDeliveries.seq,
        [eq(webhookDeliveries.endpointId, endpoint.id)],
        request.query,
        (where, order, rows) => db.select().from(webhookDeliveries).where(where).orderBy(order).limit(rows),
      );
    },
  );

  app.post(
    "/:endpointId/deliveries/:deliveryId/retry",
    {
      config: { roles: ["merchant"], idempotent: true },
      schema: {
        tags: ["webhooks"],
        summary:
          "Send a failed delivery (automatic retries spent) once more: the same event, signed afresh (Idempotency-Key required)",
        params: params.extend({ deliveryId: idParam }),
        headers: idempotencyHeader,
        response: { 202: deliveryView, 409: errorResponse, 422: errorResponse, 503: errorResponse, ...errors },
      },
    },
    async (request, reply) =>
      reply
        .status(202)
        .send(
          await retryWebhookDelivery(
            { database: services.database, queue: webhookQueue },
            request.principal!,
            request.params.endpointId,
            request.params.deliveryId,
          ),
        ),
  );
};
