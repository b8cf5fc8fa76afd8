import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";

/**
 * Per-credential rate limits (per IP before authentication), counted in Redis so every API
 * process shares them. Runs after authentication (preHandler) so it can key on the credential.
 * If Redis is down the limiter lets requests through; money routes still fail with 503 at the
 * idempotency step, and reads keep working.
 */
export const rateLimitPlugin = fp(
  async (app: FastifyInstance, { perMinute }: { perMinute: number }) => {
    await app.register(rateLimit, {
      global: true,
      hook: "preHandler",
      max: perMinute,
      timeWindow: 60_000,
      redis: app.redis,
      nameSpace: `${app.redisPrefix}:ratelimit:`,
      skipOnError: true,
      keyGenerator: (request) => (request.principal ? `cred:${request.principal.credentialId}` : `ip:${request.ip}`),
      errorResponseBuilder: (_request, context) => ({
        statusCode: 429,
        error: {
          code: "RATE_LIMITED",
          message: `Rate limit of ${context.max} requests per minute reached; retry in ${context.after}`,
        },
      }),
    });
  },
  { name: "rate-limit", dependencies: ["redis", "auth"] },
);
