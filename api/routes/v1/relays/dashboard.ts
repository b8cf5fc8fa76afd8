import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { FastifyAdapter } from "@bull-board/fastify";
import type { FastifyPluginAsync } from "fastify";

/**
 * The BullMQ dashboard (bull-board) of the relay queues at /v1/relays/dashboard: jobs by state,
 * their data, attempts, failure reasons. Operators and admins only — every route it adds gets the
 * same `roles` as the API's operator routes, so the auth plugin checks `Authorization: Bearer`
 * on the page, its assets and its API alike (open it through a proxy or browser extension that
 * adds the header). Read-only: retrying or removing a relay job by hand would bypass the relay
 * records; the API's retry and cancel (POST /v1/relays/:id/retry, …/cancel) are the safe actions.
 */
export const queueDashboard: FastifyPluginAsync<{ prefix: string }> = async (app, options) => {
  app.addHook("onRoute", (route) => {
    route.config = { ...(route.config as object), roles: ["operator", "admin"] } as typeof route.config;
  });
  // bull-board's own routes carry JSON schemas: validate and serialise them as Fastify does by
  // default, not with the API's zod compilers.
  app.setValidatorCompiler(() => (data) => ({ value: data }));
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  const serverAdapter = new FastifyAdapter();
  createBullBoard({
    queues: app.services.relay.queues().map((queue) => new BullMQAdapter(queue, { readOnlyMode: true })),
    serverAdapter,
    options: { uiConfig: { boardTitle: "Stablerail relay queues" } },
  });
  // bull-board answers every error in its own scope with its own 500 body — our 401/403 from the
  // access hooks included. Rethrowing hands them to the API's error handler (Fastify passes an
  // error thrown by a handler to the parent's), so they keep their status and the one error shape.
  serverAdapter.setErrorHandler((error) => {
    throw error;
  });
  serverAdapter.setBasePath(`/v1/relays${options.prefix}`);
  await app.register(serverAdapter.registerPlugin());
};
