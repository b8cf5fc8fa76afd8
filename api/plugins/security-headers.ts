/**
 * Response headers every answer carries: helmet's security headers (a Content-Security-Policy that
 * allows nothing — the API serves JSON; the docs and the wallet app set their own), CORS for the
 * browser origins configured in API_CORS_ORIGINS only (a preflight from any other origin is a 403
 * CORS_ORIGIN_NOT_ALLOWED without an Access-Control-Allow-Origin, so the browser refuses and a developer
 * reading the network tab sees which setting to change), and `Cache-Control: no-store` on
 * every response that does not set its own caching: API answers are per principal, and some carry a
 * new API key, session token or webhook secret that no cache may keep.
 */
import cors from "@fastify/cors";
import helmet from "@fastify/helmet";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";

import { PARENT_CREDENTIAL_HEADER } from "../auth/fresh-authentication.ts";
import { PermissionError } from "../errors/api-errors.ts";

export const securityHeadersPlugin = fp(
  async (app: FastifyInstance, { corsOrigins }: { corsOrigins: readonly string[] }) => {
    await app.register(helmet, {
      global: true,
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'none'"],
          frameAncestors: ["'none'"],
          baseUri: ["'none'"],
          formAction: ["'none'"],
        },
      },
      crossOriginResourcePolicy: { policy: "same-origin" },
    });
    const allowed = new Set(corsOrigins);
    await app.register(cors, {
      origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
      methods: ["GET", "POST", "PATCH", "DELETE"],
      allowedHeaders: ["authorization", "content-type", "idempotency-key", PARENT_CREDENTIAL_HEADER, "x-request-id"],
      exposedHeaders: [
        "x-request-id",
        "idempotent-replayed",
        "retry-after",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
      ],
      maxAge: 600,
      strictPreflight: true,
    });
    // @fastify/cors leaves a preflight from an origin it refuses to the router, which answers 404:
    // answer it here, after the cors hook, so the refusal says what it is.
    app.addHook("onRequest", async (request) => {
      const origin = request.headers.origin;
      if (request.method !== "OPTIONS" || !origin || !request.headers["access-control-request-method"]) return;
      if (!allowed.has(origin))
        throw new PermissionError(
          "CORS_ORIGIN_NOT_ALLOWED",
          "This origin may not call the API from a browser; add it to API_CORS_ORIGINS",
          { details: { origin: origin.slice(0, 200) } },
        );
    });
    app.addHook("onSend", async (_request, reply, payload) => {
      if (!reply.hasHeader("cache-control")) void reply.header("cache-control", "no-store");
      return payload;
    });
  },
  { name: "security-headers", dependencies: ["errors"] },
);
