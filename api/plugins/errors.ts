/**
 * The one place where error codes become HTTP statuses, and where every error takes the one
 * shape `{ error: { code, message, details? } }` — route errors, validation, the framework's own
 * (malformed JSON, body too large, wrong content type, a bad URL: {@link frameworkErrorHandler}) and
 * unknown routes. 4xx for everything the caller did; 503 with a retryable code when a dependency
 * (Redis, the database) does not answer; other 5xx hide internals (logged, not returned).
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from "fastify-type-provider-zod";

import { isStablerailError, NotFoundError, UnavailableError, ValidationError } from "../../lib/errors/base.ts";
import { AuthenticationError, ConflictError, PermissionError } from "../errors/api-errors.ts";
import { databaseRefusalOf, isDatabaseUnavailable, isRedisUnavailable } from "../errors/dependency-errors.ts";
import { isUnreachable as isChainUnreachable } from "../audit/chain-unavailable.ts";

/** Codes whose status differs from their class's default. */
const statusByCode: Record<string, number> = {
  VALIDATION_FAILED: 400,
  IDEMPOTENCY_KEY_MISSING: 400,
  IDEMPOTENCY_KEY_INVALID: 400,
  LEDGER_CURSOR_INVALID: 400,
  CURSOR_INVALID: 400,
  RELAY_NOT_CANCELLABLE: 409,
  RELAY_NOT_RETRYABLE: 409,
  IDEMPOTENCY_KEY_REUSED: 422,
  IDEMPOTENCY_REQUEST_IN_PROGRESS: 409,
  SIGNATURE_INVALID: 422,
  SIGNER_MISMATCH: 422,
  AUTHORIZATION_EXPIRED: 422,
  AUTHORIZATION_NOT_YET_VALID: 422,
  FORWARD_REQUEST_EXPIRED: 422,
  PERMIT_EXPIRED: 422,
  PERMIT_REQUIRED: 422,
  AUTHORIZATION_NONCE_USED: 409,
  INSUFFICIENT_BALANCE: 422,
  RECIPIENT_INVALID: 422,
  TRAVEL_RULE_REQUIRED: 422,
  ACCOUNT_FROZEN: 403,
  AMOUNT_INVALID: 400,
  SIWE_NONCE_INVALID: 401,
  SIWE_MESSAGE_INVALID: 401,
  RATE_LIMITED: 429,
  TOO_MANY_ATTEMPTS: 429,
  SECOND_FACTOR_INVALID: 422,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  URL_TOO_LONG: 414,
};

/**
 * HTTP status of an error code (defaults by error class).
 * @param error - a Stablerail error
 * @returns the status the API answers with
 */
export function statusOf(error: { code: string; constructor: unknown }): number {
  const byCode = statusByCode[error.code];
  if (byCode !== undefined) return byCode;
  if (error instanceof AuthenticationError) return 401;
  if (error instanceof PermissionError) return 403;
  if (error instanceof NotFoundError) return 404;
  if (error instanceof ConflictError) return 409;
  if (error instanceof ValidationError) return 400;
  if (error instanceof UnavailableError) return 503;
  return 500;
}

export type ErrorBody = { error: { code: string; message: string; details?: unknown } };

/** How long a client should wait before retrying after a 503, in seconds. */
const RETRY_AFTER_SECONDS = 1;

/** Fastify's own 4xx codes, by status, in our vocabulary. */
const frameworkCodeByStatus: Record<number, string> = {
  404: "ROUTE_NOT_FOUND",
  413: "PAYLOAD_TOO_LARGE",
  414: "URL_TOO_LONG",
  415: "UNSUPPORTED_MEDIA_TYPE",
  429: "RATE_LIMITED",
};

/** The status and body every error is answered with; logs what a 5xx hides. */
export function errorReply(error: unknown, request: FastifyRequest): { status: number; body: ErrorBody } {
  const internal = () => {
    request.log.error({ err: error }, "request failed");
    return {
      status: 500,
      body: {
        error: {
          code: "INTERNAL",
          message: "Internal error; the request id identifies it in the logs",
          details: { requestId: request.id },
        },
      },
    };
  };
  const unavailable = (code: string, message: string) => {
    request.log.error({ err: error }, "dependency unavailable");
    return {
      status: 503,
      body: { error: { code, message, details: { requestId: request.id, retryable: true } } },
    };
  };

  if (hasZodFastifySchemaValidationErrors(error)) {
    return {
      status: 400,
      body: {
        error: {
          code: "VALIDATION_FAILED",
          message: `The request ${error.validationContext ?? ""} is invalid`.replace("  ", " "),
          details: {
            issues: error.validation.map((issue) => ({
              path: issue.instancePath,
              message: issue.message,
              ...(issue.params as object),
            })),
          },
        },
      },
    };
  }
  if (isResponseSerializationError(error)) return internal();
  if (isStablerailError(error)) {
    const status = statusOf(error);
    if (status === 503) return unavailable(error.code, error.shortMessage);
    if (status >= 500) return internal();
    return {
      status,
      body: {
        error: { code: error.code, message: error.shortMessage, ...(error.details ? { details: error.details } : {}) },
      },
    };
  }
  if (isRedisUnavailable(error)) return unavailable("REDIS_UNAVAILABLE", "A dependency is unavailable; retry later");
  if (isDatabaseUnavailable(error))
    return unavailable("DATABASE_UNAVAILABLE", "The database is unavailable; retry later");
  if (isChainUnreachable(error))
    return unavailable("CHAIN_UNAVAILABLE", "The chain's JSON-RPC node does not answer; retry later");
  const refusal = databaseRefusalOf(error);
  if (refusal) {
    // A value a schema should have refused, or a unique key a concurrent request took first.
    request.log.warn({ err: error }, "the database refused a value of the request");
    return refusal === "unique"
      ? {
          status: 409,
          body: { error: { code: "CONFLICT", message: "A concurrent request created this first; retry" } },
        }
      : {
          status: 400,
          body: { error: { code: "VALIDATION_FAILED", message: "A value of the request is out of range" } },
        };
  }
  // Fastify's own 4xx (malformed JSON, body too large, wrong content type, a bad URL).
  const status = (error as FastifyError | undefined)?.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const message = (error as Error).message || "The request is invalid";
    return { status, body: { error: { code: frameworkCodeByStatus[status] ?? "VALIDATION_FAILED", message } } };
  }
  return internal();
}

function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply) {
  const { status, body } = errorReply(error, request);
  if (status === 503) void reply.header("retry-after", String(RETRY_AFTER_SECONDS));
  // A lockout says how long it lasts (api/auth/lockout): the header and details agree.
  const retryAfter = (body.error.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
  if (status === 429 && typeof retryAfter === "number") void reply.header("retry-after", String(retryAfter));
  return reply.status(status).send(body);
}

/**
 * Errors the router raises before any route or hook runs (Fastify's `frameworkErrors` option): a
 * malformed percent-encoding (400 URL_INVALID), a path parameter past the router's length limit
 * (414 URL_TOO_LONG). No hook runs for them, so the headers every response carries are set here.
 */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const tooLong = error.code === "FST_ERR_MAX_PARAM_LENGTH";
  void reply
    .header("x-request-id", request.id)
    .header("cache-control", "no-store")
    .header("x-content-type-options", "nosniff")
    .status(tooLong ? 414 : 400)
    .send({
      error: tooLong
        ? { code: "URL_TOO_LONG", message: "A path segment is longer than any id of this API" }
        : { code: "URL_INVALID", message: "The URL is not validly percent-encoded" },
    });
}

export const errorsPlugin = fp(
  async (app: FastifyInstance) => {
    app.setNotFoundHandler((request, reply) => {
      void reply.status(404).send({
        error: {
          code: "ROUTE_NOT_FOUND",
          message: `No route ${request.method} ${request.url.split("?")[0]!.slice(0, 200)}`,
        },
      });
    });
    app.setErrorHandler((error: FastifyError, request, reply) => sendError(error, request, reply));
  },
  { name: "errors" },
);
