import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";

import { errorResponse } from "../../schemas/common.ts";
import { settleExactPayment } from "../../x402/settle-exact-payment.ts";
import { supportedKinds } from "../../x402/supported-kinds.ts";
import { verifyExactPayment } from "../../x402/verify-exact-payment.ts";
import {
  facilitatorRequestBody,
  settleResponseView,
  supportedResponseView,
  verifyResponseView,
} from "../../x402/x402-messages.ts";
import { X402Refusal } from "../../x402/x402-reasons.ts";

const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse };

/** How long POST /settle waits for the relay's outcome before answering `settlement_pending`. */
const SETTLE_WAIT_MS = 30_000;
/** How long a payment-identifier is remembered (the API's Idempotency-Key window). */
const IDENTIFIER_TTL_SECONDS = 86_400;

/**
 * The x402 v2 facilitator (specs/x402-specification-v2.md §7): GET /supported, POST /verify and
 * POST /settle, bodies and answers exactly as the specification writes them, for the `exact`
 * scheme on this chain and the stablecoin. A merchant API key authenticates (Bearer, as the
 * official HTTPFacilitatorClient's createAuthHeaders sends it), and payments must pay one of that
 * merchant's wallets. A refused payment is an answer (200 with isValid/success false and the
 * specification's reason), not an HTTP error; a payment-identifier reused for another payment is 409.
 */
export const x402Routes: FastifyPluginAsyncZod = async (app) => {
  const { services } = app;

  app.get(
    "/supported",
    {
      config: { roles: ["merchant"] },
      schema: {
        tags: ["x402"],
        summary: "x402 facilitator: the payment kinds settled here (exact scheme, this chain, the stablecoin)",
        response: { 200: supportedResponseView, ...errors },
      },
    },
    async () => supportedKinds(services),
  );

  app.post(
    "/verify",
    {
      config: { roles: ["merchant"] },
      schema: {
        tags: ["x402"],
        summary: "x402 facilitator: verify a payment payload against payment requirements (nothing moves)",
        body: facilitatorRequestBody,
        response: { 200: verifyResponseView, ...errors },
      },
    },
    async (request) => {
      try {
        const verified = await verifyExactPayment(services, request.principal!, request.body);
        return { isValid: true, payer: verified.payer };
      } catch (error) {
        if (!(error instanceof X402Refusal)) throw error;
        return {
          isValid: false,
          invalidReason: error.reason,
          invalidMessage: error.message,
          ...(error.payer ? { payer: error.payer } : {}),
        };
      }
    },
  );

  app.post(
    "/settle",
    {
      config: { roles: ["merchant"] },
      schema: {
        tags: ["x402"],
        summary:
          "x402 facilitator: settle a payment through the relayer, exactly once — the same payload again answers the first outcome",
        body: facilitatorRequestBody,
        response: { 200: settleResponseView, 409: settleResponseView, ...errors },
      },
    },
    async (request, reply) => {
      const { response, conflict } = await settleExactPayment(services, request.principal!, request.body, {
        waitMs: SETTLE_WAIT_MS,
        identifierTtlSeconds: IDENTIFIER_TTL_SECONDS,
      });
      return reply.status(conflict ? 409 : 200).send(response);
    },
  );
};
