import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";

import { NotFoundError, ValidationError } from "../../../../lib/errors/base.ts";
import { readsEverything } from "../../../auth/principal.ts";
import {
  deadLetterActions,
  deadLetterStatuses,
  getRelay,
  listRelays,
  relayStatuses,
  type DeadLetterActions,
  type Relay,
} from "../../../../relayer/index.ts";
import { queueDashboard } from "./dashboard.ts";
import { errorResponse, page, paginationQuery } from "../../../schemas/common.ts";

const transitionView = z.object({
  status: z.enum(relayStatuses),
  at: z.string().describe("ISO 8601 time of the transition"),
  transactionHash: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()).nullable(),
});

const relayView = z.object({
  relayId: z.string(),
  kind: z.string(),
  status: z.enum(relayStatuses),
  requestedBy: z.string(),
  relayer: z.string().nullable(),
  nonce: z.number().nullable(),
  transactionHash: z.string().nullable(),
  batchIndex: z.number().nullable().describe("the relay's item in a Settlement.settleAuthorizations batch, if batched"),
  blockNumber: z.string().nullable(),
  blockHash: z.string().nullable(),
  errorCode: z.string().nullable(),
  errorMessage: z.string().nullable(),
  deadline: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  transitions: z.array(transitionView),
  actions: z
    .object({
      retry: z.object({ allowed: z.boolean(), reason: z.string().optional() }),
      cancel: z.object({ allowed: z.boolean() }),
    })
    .optional()
    .describe(
      "operators' safe actions on a dead letter: retry (only while it cannot execute twice: nothing it sent can mine, its authorization unused on chain) and cancel (a dead relay)",
    ),
});

function toView(relay: Relay, actions?: DeadLetterActions): z.infer<typeof relayView> {
  return {
    ...relay,
    ...(actions ? { actions } : {}),
    blockNumber: relay.blockNumber === null ? null : relay.blockNumber.toString(),
    deadline: relay.deadline?.toISOString() ?? null,
    createdAt: relay.createdAt.toISOString(),
    updatedAt: relay.updatedAt.toISOString(),
    transitions: relay.transitions.map((t) => ({
      status: t.status,
      at: t.at.toISOString(),
      transactionHash: t.transactionHash,
      detail: t.detail,
    })),
  };
}

/** Cursor over (updatedAt, relayId), newest first: unique, so no relay is skipped or repeated. */
function encodeCursor(relay: Relay): string {
  return Buffer.from(`r:${relay.updatedAt.toISOString()}|${relay.relayId}`).toString("base64url");
}
function decodeCursor(cursor: string): { updatedAt: Date; relayId: string } {
  const match = /^r:([^|]+)\|(.+)$/.exec(Buffer.from(cursor, "base64url").toString());
  const updatedAt = match ? new Date(match[1]!) : undefined;
  if (!match || !updatedAt || Number.isNaN(updatedAt.getTime()))
    throw new ValidationError(
      "CURSOR_INVALID",
      "The cursor is not one this API returned; start again without a cursor",
    );
  return { updatedAt, relayId: match[2]! };
}

/**
 * Relays as the relayer recorded them, with every transition and its time (where time went).
 * Operators, auditors and admins list all of them — `?status=dead` is the dead-letter view, each
 * letter with its reason and its safe actions (retry, cancel); a user or merchant reads only
 * relays it requested. `/v1/relays/dashboard` is the BullMQ dashboard of the relay queues.
 */
export const relayRoutes: FastifyPluginAsyncZod = async (app) => {
  const { database } = app.services;
  const chain = { publicClient: app.services.publicClient, contracts: app.services.contracts };
  const isOperator = (role: string | undefined) => role === "operator" || role === "admin";

  await app.register(queueDashboard, { prefix: "/dashboard" });

  app.get(
    "/",
    {
      config: { roles: ["operator", "auditor", "admin"] },
      schema: {
        tags: ["relays"],
        summary: "List relays, newest first; status=dead is the operators' dead-letter view",
        querystring: paginationQuery.extend({
          status: z
            .enum([...relayStatuses, "dead"])
            .optional()
            .describe("one relay status, or `dead` for failed, expired and cancelled"),
        }),
        response: { 200: page(relayView), 400: errorResponse, 401: errorResponse, 403: errorResponse },
      },
    },
    async (request) => {
      const { limit, cursor, status } = request.query;
      const page = await listRelays(database, {
        status: status === "dead" ? deadLetterStatuses : status,
        after: cursor ? decodeCursor(cursor) : undefined,
        limit,
      });
      const last = page.relays[page.relays.length - 1];
      const actions = isOperator(request.principal?.role)
        ? await deadLetterActions(database, chain, page.relays)
        : new Map<string, DeadLetterActions>();
      return {
        items: page.relays.map((relay) => toView(relay, actions.get(relay.relayId))),
        nextCursor: page.more && last ? encodeCursor(last) : null,
      };
    },
  );

  app.get(
    "/:relayId",
    {
      config: { roles: ["user", "merchant", "operator", "auditor", "admin"] },
      schema: {
        tags: ["relays"],
        summary: "One relay with every transition and its time",
        params: z.object({ relayId: z.string().min(1).max(200) }),
        response: { 200: relayView, 401: errorResponse, 403: errorResponse, 404: errorResponse },
      },
    },
    async (request) => {
      const relay = await getRelay(database, request.params.relayId);
      const principal = request.principal!;
      // Another principal's relay is reported as absent, so ids cannot be probed.
      if (!relay || (!readsEverything(principal.role) && relay.requestedBy !== principal.userId))
        throw new NotFoundError("RELAY_NOT_FOUND", "No relay with this id (it may not be picked up by a worker yet)");
      const actions = isOperator(principal.role) ? await deadLetterActions(database, chain, [relay]) : undefined;
      return toView(relay, actions?.get(relay.relayId));
    },
  );

  app.post(
    "/:relayId/cancel",
    {
      config: { roles: ["operator", "admin"] },
      schema: {
        tags: ["relays"],
        summary:
          "Cancel a relay not yet sent, or close a dead one (409 RELAY_NOT_CANCELLABLE once a worker holds it or it was sent)",
        params: z.object({ relayId: z.string().min(1).max(200) }),
        response: { 200: relayView, 401: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse },
      },
    },
    async (request) => {
      await app.services.relay.cancelRelay(request.params.relayId, request.principal!.userId);
      return toView((await getRelay(database, request.params.relayId))!);
    },
  );

  app.post(
    "/:relayId/retry",
    {
      config: { roles: ["operator", "admin"] },
      schema: {
        tags: ["relays"],
        summary:
          "Re-queue a dead letter (dead or failed) with its recorded request — only while it cannot execute twice (409 RELAY_NOT_RETRYABLE otherwise)",
        params: z.object({ relayId: z.string().min(1).max(200) }),
        response: { 200: relayView, 401: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse },
      },
    },
    async (request) => {
      await app.services.relay.retryRelay(request.params.relayId, request.principal!.userId, chain);
      return toView((await getRelay(database, request.params.relayId))!);
    },
  );
};
