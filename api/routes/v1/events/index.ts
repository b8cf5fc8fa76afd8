import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";

import { PermissionError } from "../../../errors/api-errors.ts";
import { resolvePrincipal } from "../../../plugins/auth.ts";
import { errorResponse, idParam } from "../../../schemas/common.ts";
import { loadOwnedWallet } from "../../../wallets/load-owned-wallet.ts";
import { createWalletEventHub } from "./wallet-event-hub.ts";

/** Open event streams one principal may hold at once (a tab holds one). */
export const MAX_STREAMS_PER_PRINCIPAL = 8;
/** How long the browser waits before reconnecting a dropped stream (the SSE `retry` field). */
const RECONNECT_MS = 2_000;
const readers = ["user", "merchant", "operator", "auditor", "admin"] as const;
const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse };

/**
 * Live events for the wallet UI, as server-sent events (`text/event-stream`): the history moves
 * pending → confirmed → in the ledger without a reload, and without the browser asking again.
 *
 * `GET /v1/events/wallets/:walletId` streams, for a wallet the caller may read:
 * - `wallet` — the wallet's snapshot (balances, latest movements with their state, and the first
 *   page of ledger history whenever a posting landed); the first one at once, then whenever it changes;
 * - `status` — `{live: false, code}` while the server cannot read (the database is down), `{live: true}` after;
 * - `end` — `{code, message}` just before the server closes the stream (UNAUTHENTICATED when the
 *   credential ended, SERVER_CLOSING on shutdown).
 * Authenticate with `Authorization: Bearer` as on every route (read the stream with `fetch`:
 * EventSource cannot send that header). Every event is a whole state, so a reconnect needs no replay.
 */
export const eventRoutes: FastifyPluginAsyncZod = async (app) => {
  const { services } = app;
  const hub = createWalletEventHub(services, services.logger);
  app.addHook("preClose", async () => hub.close());

  app.get(
    "/wallets/:walletId",
    {
      config: { roles: readers },
      schema: {
        tags: ["events"],
        summary: "Server-sent events of one wallet: `wallet` snapshots as movements move and the ledger changes",
        description:
          "text/event-stream. Events: wallet (balances, movements with state, ledger history when it changed), status, end. At most 8 streams per principal (429 RATE_LIMITED).",
        params: z.object({ walletId: idParam }),
        response: { 200: z.string().describe("text/event-stream"), 429: errorResponse, ...errors },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      const wallet = await loadOwnedWallet(services.database, principal, request.params.walletId);
      if (hub.countFor(principal.userId) >= MAX_STREAMS_PER_PRINCIPAL) {
        throw new PermissionError(
          "RATE_LIMITED",
          `At most ${MAX_STREAMS_PER_PRINCIPAL} event streams at once; close another tab or stream`,
        );
      }
      const credential = /^Bearer (.+)$/i.exec(request.headers.authorization ?? "")?.[1] ?? "";
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        connection: "keep-alive",
        "x-accel-buffering": "no",
        "x-content-type-options": "nosniff",
        "x-request-id": request.id,
      });
      raw.write(`retry: ${RECONNECT_MS}\n\n`);
      let eventId = 0;
      const stream = {
        walletId: wallet.id,
        wallet: { id: wallet.id, address: wallet.address },
        userId: principal.userId,
        stillAuthenticated: async () => (await resolvePrincipal(app, credential))?.userId === principal.userId,
        send: (event: string, data: unknown) => {
          if (!raw.writableEnded) raw.write(`id: ${++eventId}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
        },
        comment: (text: string) => {
          if (!raw.writableEnded) raw.write(`: ${text}\n\n`);
        },
        end: () => {
          if (!raw.writableEnded) raw.end();
        },
      };
      request.raw.socket.on("close", () => hub.remove(stream));
      raw.on("close", () => hub.remove(stream));
      hub.add(stream);
      return reply;
    },
  );
};
