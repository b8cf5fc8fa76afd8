/**
 * `Idempotency-Key` with Stripe's semantics, on every route declared `config: { idempotent: true }`:
 * same key + same body → the first response (status and body) replayed; same key + another body
 * → 422 IDEMPOTENCY_KEY_REUSED; same key while the first is in flight → 409
 * IDEMPOTENCY_REQUEST_IN_PROGRESS; no key → 400. Keys live in Redis per principal with a TTL
 * (≥ 24 h). A 5xx result is not kept, so the caller may retry with the same key.
 *
 * An in-flight marker names its owner (this process and the request). When the marker cannot be
 * cleared or replaced by the result because Redis failed — the very failure that made the request
 * 5xx — it would refuse every retry for its TTL. So: this process takes over a marker of its own
 * whose request has ended (a retry here is served at once), and keeps trying to clear or complete it
 * in the background until Redis answers (a retry elsewhere is served once it has). Replacing and
 * deleting compare the marker first, so nobody else's marker is ever touched (issue 11, defect 6).
 */
import { createHash, randomUUID } from "node:crypto";

import type { FastifyInstance, FastifyRequest } from "fastify";
import fp from "fastify-plugin";

import { UnavailableError, ValidationError } from "../../lib/errors/base.ts";

const notKept = new WeakSet<FastifyRequest>();

/**
 * Keeps this request's answer out of its Idempotency-Key: an answer that asks the caller for
 * something (a step-up approval, travel-rule data) before the same request — same key — is sent
 * again with it (docs/design/auth.md).
 */
export function answerNotKept(request: FastifyRequest): void {
  notKept.add(request);
}
import { ConflictError } from "../errors/api-errors.ts";
import { isRedisUnavailable } from "../errors/dependency-errors.ts";

type Stored =
  | { state: "in_progress"; bodyHash: string; owner?: string }
  | { state: "done"; bodyHash: string; status: number; body: string; contentType: string };

declare module "fastify" {
  interface FastifyRequest {
    idempotencyClaim: { redisKey: string; marker: string; owner: string } | undefined;
  }
}

/** What an Idempotency-Key may be (documented in every money route's header schema). */
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9_:.-]{8,255}$/;
/** An in-flight marker outlives no crashed request for long. */
const IN_PROGRESS_TTL_SECONDS = 60;
/** How often a marker Redis refused to clear is tried again, while it could still be in the way. */
const CLEANUP_RETRY_MS = 200;

/** Sets KEYS[1] to ARGV[2] only while it still holds ARGV[1] (compare-and-set, with a TTL in ARGV[3]). */
const REPLACE_IF_UNCHANGED = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) else return nil end`;
/** Deletes KEYS[1] only while it still holds ARGV[1]. */
const DELETE_IF_UNCHANGED = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

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
    app.decorateRequest("idempotencyClaim", undefined);
    /** This process's markers; a marker of ours whose owner is not in flight is stale. */
    const processToken = randomUUID();
    const inFlight = new Set<string>();
    const cleanups = new Set<NodeJS.Timeout>();

    /** Runs `operation` until Redis answers or the marker could no longer be in anyone's way. */
    const retryInBackground = (operation: () => Promise<unknown>, until: number) => {
      const attempt = () => {
        const timer = setTimeout(() => {
          cleanups.delete(timer);
          operation().catch(() => {
            if (Date.now() < until) attempt();
          });
        }, CLEANUP_RETRY_MS);
        timer.unref();
        cleanups.add(timer);
      };
      attempt();
    };

    app.addHook("onClose", async () => {
      for (const timer of cleanups) clearTimeout(timer);
    });

    // Before validation, so a missing key is named as such even when the body is wrong too.
    app.addHook("preValidation", async (request) => {
      if (!request.routeOptions.config.idempotent) return;
      const key = request.headers["idempotency-key"];
      if (typeof key !== "string") {
        throw new ValidationError(
          "IDEMPOTENCY_KEY_MISSING",
          "This request moves money: send an Idempotency-Key header (8-255 of A-Z a-z 0-9 _ : . -)",
        );
      }
      if (!IDEMPOTENCY_KEY_PATTERN.test(key)) {
        throw new ValidationError(
          "IDEMPOTENCY_KEY_INVALID",
          "The Idempotency-Key must be 8-255 characters of A-Z a-z 0-9 _ : . - (a UUID is a good choice)",
        );
      }
    });

    app.addHook("preHandler", async (request, reply) => {
      if (!request.routeOptions.config.idempotent) return;
      const key = request.headers["idempotency-key"] as string;
      const owner = request.principal?.userId ?? "anonymous";
      const redisKey = `${app.redisPrefix}:idem:${owner}:${key}`;
      const hash = bodyHash(request);
      const claimOwner = `${processToken}:${request.id}:${randomUUID()}`;
      const marker = JSON.stringify({ state: "in_progress", bodyHash: hash, owner: claimOwner } satisfies Stored);
      const claim = () => {
        request.idempotencyClaim = { redisKey, marker, owner: claimOwner };
        inFlight.add(claimOwner);
      };
      const claimed = await guarded(() => app.redis.set(redisKey, marker, "EX", IN_PROGRESS_TTL_SECONDS, "NX"));
      if (claimed === "OK") return claim();
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
        const ours = stored.owner?.startsWith(`${processToken}:`) ?? false;
        if (ours && !inFlight.has(stored.owner!)) {
          // Our own request ended without clearing its marker (Redis failed it): take it over.
          const replaced = await guarded(() =>
            app.redis.eval(REPLACE_IF_UNCHANGED, 1, redisKey, raw!, marker, String(IN_PROGRESS_TTL_SECONDS)),
          );
          if (replaced === "OK") return claim();
        }
        throw new ConflictError(
          "IDEMPOTENCY_REQUEST_IN_PROGRESS",
          "A request with this Idempotency-Key is still in progress; retry shortly",
        );
      }
      void reply.header("idempotent-replayed", "true").header("content-type", stored.contentType).status(stored.status);
      return reply.send(stored.body);
    });

    app.addHook("onSend", async (request, reply, payload) => {
      const claim = request.idempotencyClaim;
      if (!claim) return payload;
      request.idempotencyClaim = undefined;
      const { redisKey, marker } = claim;
      // A 5xx is not kept (the caller may retry), nor an answer marked not kept; any other answer is
      // the key's answer from now on.
      const settle =
        reply.statusCode >= 500 || notKept.has(request)
          ? () => app.redis.eval(DELETE_IF_UNCHANGED, 1, redisKey, marker)
          : () =>
              app.redis.eval(
                REPLACE_IF_UNCHANGED,
                1,
                redisKey,
                marker,
                JSON.stringify({
                  state: "done",
                  bodyHash: bodyHash(request),
                  status: reply.statusCode,
                  body: typeof payload === "string" ? payload : String(payload ?? ""),
                  contentType: String(reply.getHeader("content-type") ?? "application/json; charset=utf-8"),
                } satisfies Stored),
                String(ttlSeconds),
              );
      try {
        await settle();
      } catch (error) {
        request.log.error({ err: error }, "could not record the idempotent response; retrying in the background");
        retryInBackground(settle, Date.now() + IN_PROGRESS_TTL_SECONDS * 1000);
      } finally {
        inFlight.delete(claim.owner);
      }
      return payload;
    });

    // A request that ends without a reply being sent (aborted) frees its claim too.
    app.addHook("onResponse", async (request) => {
      if (request.idempotencyClaim) inFlight.delete(request.idempotencyClaim.owner);
    });
  },
  { name: "idempotency", dependencies: ["redis", "auth"] },
);
