import type { Address } from "viem";
import { z } from "zod";

import { ConfigError } from "../errors/config-error.ts";
import { defineEnvSection } from "./env-section.ts";
import { addressField, nonNegativeIntField, positiveIntField, portField } from "./fields.ts";

const hex32 = z
  .string()
  .regex(/^(0x)?[0-9a-fA-F]{64}$/, "must be 32 bytes of hex (64 hex digits)")
  .transform((value) => Buffer.from(value.replace(/^0x/, ""), "hex"));

/** Settings of the HTTP API process (`api/main.ts`, or in-process under `npm start`). */
export const apiEnv = defineEnvSection(
  "API",
  {
    API_HOST: z.string().default("127.0.0.1").describe("Interface the HTTP API listens on"),
    API_PORT: portField.default(3000).describe("Port the HTTP API listens on"),
    API_BOOTSTRAP_ADMIN_KEY: z
      .string()
      .min(32, "must be at least 32 characters")
      .optional()
      .describe("Admin API key accepted from the first start (unset: one is generated and printed once)"),
    API_KEY_ENCRYPTION_KEY: hex32
      .optional()
      .describe(
        "32-byte hex key-encryption key for custodial wallet keys (unset: generated into DATA_DIR on first start)",
      ),
    API_SESSION_TTL_SECONDS: positiveIntField
      .default(86_400)
      .describe("Lifetime of a wallet UI session token, in seconds"),
    API_AUTHORIZATION_TTL_SECONDS: positiveIntField
      .default(3_600)
      .describe("validBefore of EIP-3009 authorizations the API signs for custodial wallets, in seconds from now"),
    API_RATE_LIMIT_PER_MINUTE: positiveIntField
      .default(600)
      .describe("Requests per minute per API key (or per IP when unauthenticated)"),
    API_IDEMPOTENCY_TTL_SECONDS: positiveIntField
      .default(86_400)
      .describe("How long Idempotency-Key results are kept (at least 24 hours)"),
    API_SIWE_DOMAIN: z.string().default("localhost").describe("Domain that Sign-In with Ethereum messages must name"),
    API_PAYMENT_FEE_BPS: nonNegativeIntField
      .max(10_000, "must be at most 10000 (100 %)")
      .default(0)
      .describe(
        "Platform fee on every captured escrow payment, in basis points (0 = none); fixed in each payment's terms",
      ),
    API_PAYMENT_FEE_RECEIVER: addressField
      .optional()
      .describe("Address that receives the platform fee; required when API_PAYMENT_FEE_BPS is above 0"),
    API_ESCROW_OPERATOR: addressField
      .optional()
      .describe(
        "Address every payment's escrow terms name as operator: the relayer's operator key (unset: the operator recorded in the deployment file)",
      ),
  },
  (env) => ({
    host: env.API_HOST,
    port: env.API_PORT,
    bootstrapAdminKey: env.API_BOOTSTRAP_ADMIN_KEY,
    keyEncryptionKey: env.API_KEY_ENCRYPTION_KEY,
    sessionTtlSeconds: env.API_SESSION_TTL_SECONDS,
    authorizationTtlSeconds: env.API_AUTHORIZATION_TTL_SECONDS,
    rateLimitPerMinute: env.API_RATE_LIMIT_PER_MINUTE,
    idempotencyTtlSeconds: Math.max(env.API_IDEMPOTENCY_TTL_SECONDS, 86_400),
    siweDomain: env.API_SIWE_DOMAIN,
    paymentFee: paymentFeeOf(env.API_PAYMENT_FEE_BPS, env.API_PAYMENT_FEE_RECEIVER),
    escrowOperator: env.API_ESCROW_OPERATOR,
  }),
);

/** The platform fee, or undefined for none. @throws ConfigError when a fee has no receiver */
function paymentFeeOf(bps: number, receiver: Address | undefined): { bps: number; receiver: Address } | undefined {
  if (bps === 0) return undefined;
  if (!receiver) {
    throw new ConfigError([
      { variable: "API_PAYMENT_FEE_RECEIVER", problem: `required when API_PAYMENT_FEE_BPS is ${bps}` },
    ]);
  }
  return { bps, receiver };
}

export type ApiSettings = ReturnType<typeof apiEnv.toSettings>;
