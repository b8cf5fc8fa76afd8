/**
 * `Idempotency-Key` with Stripe's semantics, on every route declared `config: { idempotent: true }`:
 * same key + same body → the first response (status and body) replayed; same key + another body
 * → 422 IDEMPOTENCY_KEY_REUSED; same key while the first is in flight → 409
 * IDEMPOTENCY_REQUEST_IN_PROGRESS; no key → 400. Keys live in Redis per principal with a TTL
 * (≥ 24 h). A 5xx result is not kept, so the caller may retry with the same key.
 */
import { createHash } from "node:crypto";

import type { FastifyInstance, FastifyRequest } from "fastify";
import fp from "fastify-plugin";

import { UnavailableError, ValidationError } from "../../lib/errors/base.ts";
import { ConflictError } from "../errors/api-errors.ts";
import { isRedisUnavailable } from "../errors/dependency-errors.ts";

type Stored =
  | { state: "in_progress"; bodyHash: string }
  | { state: "done"; bodyHash: string; status: number; body: string; contentType: string };

declare module "fastify" {
  interface FastifyRequest {
    idempotencyRedisKey: string | undefined;
  }
}

const KEY_PATTERN = /^[A-Za-z0-9_:.-]{8,255}$/;
/** An in-flight marker outlives no crashed request for long. */
const IN_PROGRESS_TTL_SECONDS = 60;

function bodyHash(request: FastifyRequest): string {
  return createHash("sha256")
    .update(`${request.method} ${request.routeOptions.url} ${request.url}\n`)
    .update(
      JSON.stringify(request.body ?? null, (_key, value: unknown) =>
        typeof value === "bigint" ? value.toString() : value,
      ),
    )
    .digest("hex");
}

async function guarded<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (isRedisUnavailable(error))
      throw new UnavailableError(
        "REDIS_UNAVAILABLE",
        "Redis is unavailable; retry later with the same Idempotency-Key",
        { cause: error },
      );
    throw error;
  }
}

export const idempotencyPlugin = fp(
  async (app: FastifyInstance, { ttlSeconds }: { ttlSeconds: number }) => {
    app.decorateRequest("idempotencyRedisKey", undefined);

    app.addHook("preHandler", async (request, reply) => {
      if (!request.routeOptions.config.idempotent) return;
      const key = request.headers["idempotency-key"];
      if (typeof key !== "string") {
        throw new ValidationError(
          "IDEMPOTENCY_KEY_MISSING",
          "This request moves money: send an Idempotency-Key header (8-255 of A-Z a-z 0-9 _ : . -)",
        );
      }
      if (!KEY_PATTERN.test(key)) {
        throw new ValidationError(
          "IDEMPOTENCY_KEY_INVALID",
          "The Idempotency-Key must be 8-255 characters of A-Z a-z 0-9 _ : . - (a UUID is a good choice)",
        );
      }
      const owner = request.principal?.userId ?? "anonymous";
      const redisKey = `${app.redisPrefix}:idem:${owner}:${key}`;
      const hash = bodyHash(request);
      const marker: Stored = { state: "in_progress", bodyHash: hash };
      const claimed = await guarded(() =>
        app.redis.set(redisKey, JSON.stringify(marker), "EX", IN_PROGRESS_TTL_SECONDS, "NX"),
      );
      if (claimed === "OK") {
        request.idempotencyRedisKey = redisKey;
        return;
      }
      const raw = await guarded(() => app.redis.get(redisKey));
      const stored = raw ? (JSON.parse(raw) as Stored) : undefined;
      if (!stored)
        throw new ConflictError(
          "IDEMPOTENCY_REQUEST_IN_PROGRESS",
          "A request with this Idempotency-Key just finished or expired; retry",
        );
      if (stored.bodyHash !== hash) {
        throw new ValidationError(
          "IDEMPOTENCY_KEY_REUSED",
          "This Idempotency-Key was used with a different request; use a new key",
        );
      }
      if (stored.state === "in_progress") {
        throw new ConflictError(
          "IDEMPOTENCY_REQUEST_IN_PROGRESS",
          "A request with this Idempotency-Key is still in progress; retry shortly",
        );
      }
      void reply.header("idempotent-replayed", "true").header("content-type", stored.contentType).status(stored.status);
      return reply.send(stored.body);
    });

    app.addHook("onSend", async (request, reply, payload) => {
      const redisKey = request.idempotencyRedisKey;
      if (!redisKey) return payload;
      request.idempotencyRedisKey = undefined;
      try {
        if (reply.statusCode >= 500) {
          await app.redis.del(redisKey);
        } else {
          const stored: Stored = {
            state: "done",
            bodyHash: bodyHash(request),
            status: reply.statusCode,
            body: typeof payload === "string" ? payload : String(payload ?? ""),
            contentType: String(reply.getHeader("content-type") ?? "application/json; charset=utf-8"),
          };
          await app.redis.set(redisKey, JSON.stringify(stored), "EX", ttlSeconds);
        }
      } catch (error) {
        request.log.error({ err: error }, "could not record the idempotent response");
      }
      return payload;
    });
  },
  { name: "idempotency", dependencies: ["redis", "auth"] },
);
