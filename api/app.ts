/**
 * Builds the Fastify app: shared plugins (errors, db, redis, auth, rate limit, idempotency,
 * metrics, docs) then the routes, each folder an encapsulated plugin under /v1. It opens nothing:
 * the caller (server.ts, `npm start`, a test) passes opened dependencies and closes them after
 * `app.close()`.
 */
import Fastify, { type FastifyInstance } from "fastify";
import { serializerCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";

import { createStepUpApprovals } from "./auth/index.ts";
import { createTokenReads } from "./chain/token-reads.ts";
import type { AppDependencies, AppServices } from "./dependencies.ts";
import { defaultMoneyMovementPolicies } from "./movements/movement-policies.ts";
import { defaultFreshAuthenticationProofs } from "./auth/fresh-authentication.ts";
import { accessPlugin } from "./plugins/access.ts";
import { authPlugin } from "./plugins/auth.ts";
import { bodyParsingPlugin } from "./plugins/body-parsing.ts";
import { dbPlugin } from "./plugins/db.ts";
import { docsPlugin } from "./plugins/docs.ts";
import { errorsPlugin, frameworkErrorHandler } from "./plugins/errors.ts";
import { idempotencyPlugin } from "./plugins/idempotency.ts";
import { metricsPlugin } from "./plugins/metrics.ts";
import { rateLimitPlugin } from "./plugins/rate-limit.ts";
import { securityHeadersPlugin } from "./plugins/security-headers.ts";
import { redisPlugin } from "./plugins/redis.ts";
import { riskRequestContextPlugin } from "./risk/request-context.ts";
import { uiPlugin } from "./plugins/ui.ts";
import { healthRoutes } from "./routes/health/index.ts";
import { apiKeyRoutes } from "./routes/v1/api-keys/index.ts";
import { auditRoutes } from "./routes/v1/audit/index.ts";
import { authRoutes } from "./routes/v1/auth/index.ts";
import { auditLogRoutes } from "./routes/v1/audit-log/index.ts";
import { eventRoutes } from "./routes/v1/events/index.ts";
import { paymentRoutes } from "./routes/v1/payments/index.ts";
import { payoutRoutes } from "./routes/v1/payouts/index.ts";
import { relayRoutes } from "./routes/v1/relays/index.ts";
import { reserveRoutes } from "./routes/v1/reserves/index.ts";
import { reviewRoutes } from "./routes/v1/reviews/index.ts";
import { riskRoutes } from "./routes/v1/risk/index.ts";
import { screeningRoutes } from "./routes/v1/screening/index.ts";
import { transactionRoutes } from "./routes/v1/transactions/index.ts";
import { userRoutes } from "./routes/v1/users/index.ts";
import { walletRoutes } from "./routes/v1/wallets/index.ts";
import { webhookEndpointRoutes } from "./routes/v1/webhook-endpoints/index.ts";
import { x402Routes } from "./routes/x402/index.ts";
import { validatorCompiler } from "./schemas/validator-compiler.ts";

declare module "fastify" {
  interface FastifyInstance {
    services: AppServices;
  }
}

/** A client's X-Request-Id in this form is kept (a UUID fits); anything else is replaced. */
const REQUEST_ID_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;

/**
 * The request's log id: the caller's `X-Request-Id` when it is a plain token (so a client can
 * correlate its logs with ours), else a fresh UUID — a free-form header would let a caller write
 * into our logs (newlines, markup, another request's id in another format).
 */
function requestIdOf(request: { headers: Record<string, string | string[] | undefined> }): string {
  const header = request.headers["x-request-id"];
  return typeof header === "string" && REQUEST_ID_PATTERN.test(header) ? header : crypto.randomUUID();
}

/**
 * Creates the API app (not listening).
 * @param deps - opened dependencies; see {@link AppDependencies}
 * @returns the app, ready for `inject` or `listen`
 * @example
 * const app = await buildApp({ logger, settings, database, redis, ... });
 * await app.listen({ port: settings.port });
 */
export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger,
    genReqId: requestIdOf,
    bodyLimit: 256 * 1024,
    frameworkErrors: frameworkErrorHandler,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.addHook("onSend", async (request, reply, payload) => {
    void reply.header("x-request-id", request.id);
    return payload;
  });

  const tokenReads = createTokenReads(deps.publicClient, deps.contracts.stablecoin);
  app.decorate("services", {
    ...deps,
    tokenReads,
    policies: deps.policies ?? defaultMoneyMovementPolicies(tokenReads, deps.contracts),
    freshAuthenticationProofs: deps.freshAuthenticationProofs ?? defaultFreshAuthenticationProofs,
    webhookUrlPolicy: deps.webhookUrlPolicy ?? { allowLoopback: false },
  });
  // The money door's step_up decisions are approved through the auth module's challenges (api/auth/index.ts).
  app.services.stepUpApprovals ??= createStepUpApprovals(app.services);

  await app.register(errorsPlugin);
  // First hook of all: the money door's risk engine reads the request it serves (api/risk/request-context.ts).
  await app.register(riskRequestContextPlugin);
  await app.register(securityHeadersPlugin, { corsOrigins: deps.settings.corsOrigins });
  await app.register(bodyParsingPlugin);
  await app.register(dbPlugin, { database: deps.database });
  await app.register(redisPlugin, { redis: deps.redis, prefix: deps.redisPrefix });
  await app.register(metricsPlugin, { registry: deps.metricsRegistry });
  await app.register(docsPlugin);
  // Identify the caller, count the request, then refuse it (401/403): every request is counted.
  await app.register(authPlugin);
  await app.register(rateLimitPlugin, deps.settings.rateLimits);
  await app.register(accessPlugin);
  await app.register(idempotencyPlugin, { ttlSeconds: deps.settings.idempotencyTtlSeconds });

  await app.register(healthRoutes);
  await app.register(userRoutes, { prefix: "/v1/users" });
  await app.register(apiKeyRoutes, { prefix: "/v1/api-keys" });
  await app.register(authRoutes, { prefix: "/v1/auth" });
  await app.register(walletRoutes, { prefix: "/v1/wallets" });
  await app.register(transactionRoutes, { prefix: "/v1/transactions" });
  await app.register(webhookEndpointRoutes, { prefix: "/v1/webhook-endpoints" });
  await app.register(auditLogRoutes, { prefix: "/v1/audit-log" });
  await app.register(relayRoutes, { prefix: "/v1/relays" });
  await app.register(paymentRoutes, { prefix: "/v1/payments" });
  await app.register(payoutRoutes, { prefix: "/v1/payouts" });
  await app.register(x402Routes, { prefix: "/x402" });
  await app.register(eventRoutes, { prefix: "/v1/events" });
  await app.register(auditRoutes, { prefix: "/v1/audit" });
  await app.register(reserveRoutes, { prefix: "/v1/reserves" });
  await app.register(reviewRoutes, { prefix: "/v1/reviews" });
  await app.register(screeningRoutes, { prefix: "/v1/screening" });
  await app.register(riskRoutes, { prefix: "/v1/risk" });
  await app.register(uiPlugin);
  return app as unknown as FastifyInstance;
}
