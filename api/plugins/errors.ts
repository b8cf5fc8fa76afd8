/**
 * The one place where error codes become HTTP statuses, and where every error takes the one
 * shape `{ error: { code, message, details? } }`. 4xx for everything the caller did (zod
 * validation → 400 VALIDATION_FAILED with the issues); 5xx hide internals (logged, not returned).
 */
import fp from "fastify-plugin";
import type { FastifyError, FastifyInstance } from "fastify";
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from "fastify-type-provider-zod";

import { isStablerailError, NotFoundError, UnavailableError, ValidationError } from "../../lib/errors/base.ts";
import { AuthenticationError, ConflictError, PermissionError } from "../errors/api-errors.ts";

/** Codes whose status differs from their class's default. */
const statusByCode: Record<string, number> = {
  VALIDATION_FAILED: 400,
  IDEMPOTENCY_KEY_MISSING: 400,
  IDEMPOTENCY_KEY_INVALID: 400,
  LEDGER_CURSOR_INVALID: 400,
  CURSOR_INVALID: 400,
  RELAY_NOT_CANCELLABLE: 409,
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
  ACCOUNT_FROZEN: 403,
  AMOUNT_INVALID: 400,
  SIWE_NONCE_INVALID: 401,
  SIWE_MESSAGE_INVALID: 401,
  RATE_LIMITED: 429,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
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

/** Whether an ioredis error says Redis is unreachable (offline queue disabled, retries exhausted). */
export function isRedisUnavailable(error: unknown): boolean {
  const message = (error as Error | undefined)?.message ?? "";
  const name = (error as Error | undefined)?.name ?? "";
  return (
    name === "MaxRetriesPerRequestError" ||
    /enableOfflineQueue|Connection is closed|ECONNREFUSED|Stream isn't writeable/.test(message)
  );
}

export const errorsPlugin = fp(
  async (app: FastifyInstance) => {
    app.setNotFoundHandler((request, reply) => {
      void reply.status(404).send({
        error: { code: "ROUTE_NOT_FOUND", message: `No route ${request.method} ${request.url.split("?")[0]}` },
      });
    });

    app.setErrorHandler((error: FastifyError, request, reply) => {
      const send = (status: number, body: ErrorBody) => reply.status(status).send(body);
      if (hasZodFastifySchemaValidationErrors(error)) {
        return send(400, {
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
        });
      }
      if (isResponseSerializationError(error)) {
        request.log.error({ err: error }, "response failed its schema");
        return send(500, {
          error: {
            code: "INTERNAL",
            message: "Internal error; the request id identifies it in the logs",
            details: { requestId: request.id },
          },
        });
      }
      if (isStablerailError(error)) {
        const status = statusOf(error);
        if (status >= 500) {
          request.log.error({ err: error }, "request failed");
          return send(status, {
            error: {
              code: error.code,
              message: status === 503 ? error.shortMessage : "Internal error",
              details: { requestId: request.id },
            },
          });
        }
        return send(status, {
          error: {
            code: error.code,
            message: error.shortMessage,
            ...(error.details ? { details: error.details } : {}),
          },
        });
      }
      if (isRedisUnavailable(error)) {
        request.log.error({ err: error }, "redis unavailable");
        return send(503, {
          error: {
            code: "REDIS_UNAVAILABLE",
            message: "A dependency is unavailable; retry later",
            details: { requestId: request.id },
          },
        });
      }
      // Fastify's own 4xx (malformed JSON, body too large, wrong content type, rate limit).
      const status = error.statusCode ?? 500;
      if (status >= 400 && status < 500) {
        const code =
          status === 429
            ? "RATE_LIMITED"
            : status === 413
              ? "PAYLOAD_TOO_LARGE"
              : status === 415
                ? "UNSUPPORTED_MEDIA_TYPE"
                : status === 404
                  ? "NOT_FOUND"
                  : "VALIDATION_FAILED";
        return send(status, { error: { code, message: error.message } });
      }
      request.log.error({ err: error }, "request failed");
      return send(500, {
        error: {
          code: "INTERNAL",
          message: "Internal error; the request id identifies it in the logs",
          details: { requestId: request.id },
        },
      });
    });
  },
  { name: "errors" },
);
