/**
 * The HTTP request a money movement comes from, for the risk engine inside the money door: who
 * authenticated and with which credential (session age, device), and the step-up approval header.
 * Eight use cases call the door; an AsyncLocalStorage entered in an onRequest hook carries the
 * request to it without each of them threading these facts through (the pattern of
 * @fastify/request-context). A door called outside a request (a script, a worker) sees none: no
 * session, no device, no approval.
 */
import { AsyncLocalStorage } from "node:async_hooks";

import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import fp from "fastify-plugin";

const storage = new AsyncLocalStorage<FastifyRequest>();

/** The request being served, if any. */
export function currentRequest(): FastifyRequest | undefined {
  return storage.getStore();
}

/** The header a step-up approval comes in (docs/design/auth.md). */
export const STEP_UP_HEADER = "stablerail-step-up";

/** Makes {@link currentRequest} answer inside every handler. Register before the routes. */
export const riskRequestContextPlugin: FastifyPluginAsync = fp(
  async (app) => {
    app.addHook("onRequest", (request, _reply, done) => storage.run(request, done));
  },
  { name: "risk-request-context" },
);
