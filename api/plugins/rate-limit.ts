/**
 * Rate limits, counted in Redis so every API process shares them, on every request — before
 * validation, so a malformed request counts too — in fixed one-minute windows:
 * - per principal (its user id, whichever of its keys or sessions it uses: a new key is no new budget);
 * - per client address, authenticated or not;
 * - failed authentications per client address: past that budget every request from the address
 *   that carries a credential is 429, valid or not, so guessing keys is slowed and a correct guess
 *   is not told apart from a wrong one.
 * Runs after identification (plugins/auth.ts) and before the 401/403 checks (plugins/access.ts).
 * If Redis is down the limiter lets requests through: money routes still fail with 503 at the
 * idempotency step, and reads keep working.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";

import { StablerailError } from "../../lib/errors/base.ts";

export type RateLimits = {
  perPrincipalPerMinute: number;
  perIpPerMinute: number;
  authFailuresPerIpPerMinute: number;
};

const WINDOW_MS = 60_000;

export class RateLimitedError extends StablerailError {
  override name = "RateLimitedError";
  constructor(limit: number, scope: string, retryAfterSeconds: number) {
    super(
      "RATE_LIMITED",
      `Rate limit of ${limit} requests per minute ${scope} reached; retry in ${retryAfterSeconds} s`,
      { details: { limit, scope, retryAfterSeconds } },
    );
  }
}

export const rateLimitPlugin = fp(
  async (app: FastifyInstance, limits: RateLimits) => {
    const prefix = `${app.redisPrefix}:ratelimit`;

    const refuse = (reply: FastifyReply, limit: number, scope: string, windowEnd: number): never => {
      const retryAfter = Math.max(1, Math.ceil((windowEnd - Date.now()) / 1000));
      void reply.header("retry-after", String(retryAfter));
      throw new RateLimitedError(limit, scope, retryAfter);
    };

    /** Counts the request; returns the counts after it (undefined when Redis did not answer). */
    const count = async (request: FastifyRequest, window: number) => {
      // A pipeline, not MULTI/EXEC: one round trip either way, and nothing here needs the commands
      // isolated from other clients' (every counter's INCR is followed by its own PEXPIRE; a count
      // read between them is the same count) — two commands fewer per request (issue 17).
      const transaction = app.redis.pipeline();
      const ipKey = `${prefix}:ip:${request.ip}:${window}`;
      const failKey = `${prefix}:authfail:${request.ip}:${window}`;
      transaction.incr(ipKey).pexpire(ipKey, WINDOW_MS * 2);
      if (request.principal) {
        const principalKey = `${prefix}:principal:${request.principal.userId}:${window}`;
        transaction.incr(principalKey).pexpire(principalKey, WINDOW_MS * 2);
      }
      if (request.credentialRejected) transaction.incr(failKey).pexpire(failKey, WINDOW_MS * 2);
      else transaction.get(failKey);
      try {
        const results = (await transaction.exec()) ?? [];
        const values = results.map(([error, value]) => (error ? undefined : value));
        const ip = Number(values[0] ?? 0);
        const principal = request.principal ? Number(values[2] ?? 0) : undefined;
        const failures = Number(values[request.principal ? 4 : 2] ?? 0);
        return { ip, principal, failures };
      } catch (error) {
        request.log.warn({ err: error }, "rate limiter: Redis did not answer; request let through");
        return undefined;
      }
    };

    app.addHook("onRequest", async (request, reply) => {
      const window = Math.floor(Date.now() / WINDOW_MS);
      const windowEnd = (window + 1) * WINDOW_MS;
      const counts = await count(request, window);
      if (!counts) return;
      const credentialSent = request.headers.authorization !== undefined;
      if (
        credentialSent &&
        counts.failures > limits.authFailuresPerIpPerMinute - (request.credentialRejected ? 0 : 1)
      ) {
        refuse(reply, limits.authFailuresPerIpPerMinute, "of failed authentications from this address", windowEnd);
      }
      if (counts.principal !== undefined) {
        void reply
          .header("x-ratelimit-limit", String(limits.perPrincipalPerMinute))
          .header("x-ratelimit-remaining", String(Math.max(0, limits.perPrincipalPerMinute - counts.principal)))
          .header("x-ratelimit-reset", String(Math.ceil(windowEnd / 1000)));
        if (counts.principal > limits.perPrincipalPerMinute)
          refuse(reply, limits.perPrincipalPerMinute, "per principal", windowEnd);
      }
      if (counts.ip > limits.perIpPerMinute) refuse(reply, limits.perIpPerMinute, "per client address", windowEnd);
    });
  },
  { name: "rate-limit", dependencies: ["redis", "auth"] },
);
