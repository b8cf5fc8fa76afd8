import { z } from "zod";

import { defineEnvSection } from "./env-section.ts";
import { positiveIntField, portField } from "./fields.ts";

const hex32 = z
  .string()
  .regex(/^(0x)?[0-9a-fA-F]{64}$/, "must be 32 bytes of hex (64 hex digits)")
  .transform((value) => Buffer.from(value.replace(/^0x/, ""), "hex"));

/** Settings of the HTTP API process (`api/server.ts`, or in-process under `npm start`). */
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
  }),
);

export type ApiSettings = ReturnType<typeof apiEnv.toSettings>;
