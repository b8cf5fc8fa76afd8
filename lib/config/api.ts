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
      .regex(
        /^sr_key_[A-Za-z0-9_-]{43,}$/,
        "must be an API key as the API issues them: sr_key_ then at least 43 base64url characters (256 random bits), e.g. from `node -e \"console.log('sr_key_' + require('crypto').randomBytes(32).toString('base64url'))\"`",
      )
      .optional()
      .describe(
        "Admin API key accepted from the first start, in the issued form sr_key_<43+ base64url characters> (unset: one is generated and printed once)",
      ),
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
      .describe("Requests per minute per principal, whatever key or session it uses"),
    API_RATE_LIMIT_PER_IP_PER_MINUTE: positiveIntField
      .default(1_200)
      .describe("Requests per minute per client address, authenticated or not"),
    API_AUTH_FAILURES_PER_IP_PER_MINUTE: positiveIntField
      .default(30)
      .describe(
        "Failed authentications per minute per client address; past it every credentialed request from it is 429",
      ),
    API_PASSWORD_SCRYPT_LOG2_N: positiveIntField
      .min(10, "must be at least 10 (N = 1024)")
      .max(20, "must be at most 20 (N = 2^20 needs 1 GiB per hash)")
      .default(17)
      .describe(
        "scrypt cost of new password hashes as log2(N) (17: OWASP's minimum); stored with each hash, so raising it keeps old ones valid",
      ),
    API_AUTH_MAX_FAILURES: positiveIntField
      .default(5)
      .describe(
        "Failed password, code or passkey checks of one account before it is locked for API_AUTH_LOCKOUT_SECONDS",
      ),
    API_AUTH_MAX_FAILURES_PER_IP: positiveIntField
      .default(50)
      .describe(
        "Failed password, code or passkey checks from one client address before it is locked for API_AUTH_LOCKOUT_SECONDS",
      ),
    API_AUTH_LOCKOUT_SECONDS: positiveIntField
      .default(900)
      .describe("Window failures are counted in, and how long a locked account or address stays locked, in seconds"),
    API_MAX_API_KEYS_PER_USER: positiveIntField
      .default(20)
      .describe("Active API keys one principal may hold (revoke one to create another)"),
    API_IDEMPOTENCY_TTL_SECONDS: positiveIntField
      .default(86_400)
      .describe("How long Idempotency-Key results are kept (at least 24 hours)"),
    API_PUBLIC_ORIGIN: z
      .url({ protocol: /^https?$/, message: "must be an http(s) origin such as https://wallet.example.com" })
      .default("http://localhost:3000")
      .refine((value) => new URL(value).pathname === "/" && !new URL(value).search, "must be an origin, with no path")
      .transform((value) => new URL(value).origin)
      .describe(
        "The origin users reach the API and wallet UI at: Sign-In with Ethereum messages must name its host as domain and it as URI",
      ),
    API_CORS_ORIGINS: z
      .string()
      .default("")
      .transform((value, context) => {
        const origins = value
          .split(",")
          .map((item) => item.trim())
          .filter(Boolean);
        for (const origin of origins) {
          if (!URL.canParse(origin) || new URL(origin).origin !== origin)
            context.issues.push({
              code: "custom",
              input: value,
              message: `${origin} is not an origin (scheme://host[:port])`,
            });
        }
        return origins;
      })
      .describe("Comma-separated browser origins allowed to call the API cross-origin (empty: none)"),
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
    API_METRICS_TOKEN: z
      .string()
      .min(32, "must be at least 32 characters")
      .optional()
      .describe(
        "Bearer token a Prometheus scraper sends to GET /metrics (unset: /metrics answers only operator and admin credentials)",
      ),
    API_READY_MAX_INDEXER_LAG_BLOCKS: nonNegativeIntField
      .default(64)
      .describe(
        "GET /ready answers 503 when the ledger's indexed head is more than this many blocks behind the chain head",
      ),
    API_READY_STUCK_KEY_SECONDS: positiveIntField
      .default(120)
      .describe(
        "GET /ready answers 503 while a relayer key has a transaction sent more than this many seconds ago that has not mined",
      ),
  },
  (env) => ({
    host: env.API_HOST,
    metricsToken: env.API_METRICS_TOKEN,
    readyMaxIndexerLagBlocks: env.API_READY_MAX_INDEXER_LAG_BLOCKS,
    readyStuckKeySeconds: env.API_READY_STUCK_KEY_SECONDS,
    port: env.API_PORT,
    bootstrapAdminKey: env.API_BOOTSTRAP_ADMIN_KEY,
    keyEncryptionKey: env.API_KEY_ENCRYPTION_KEY,
    sessionTtlSeconds: env.API_SESSION_TTL_SECONDS,
    authorizationTtlSeconds: env.API_AUTHORIZATION_TTL_SECONDS,
    rateLimits: {
      perPrincipalPerMinute: env.API_RATE_LIMIT_PER_MINUTE,
      perIpPerMinute: env.API_RATE_LIMIT_PER_IP_PER_MINUTE,
      authFailuresPerIpPerMinute: env.API_AUTH_FAILURES_PER_IP_PER_MINUTE,
    },
    passwordScryptLog2N: env.API_PASSWORD_SCRYPT_LOG2_N,
    authLockout: {
      maxFailures: env.API_AUTH_MAX_FAILURES,
      maxFailuresPerIp: env.API_AUTH_MAX_FAILURES_PER_IP,
      lockoutSeconds: env.API_AUTH_LOCKOUT_SECONDS,
    },
    maxApiKeysPerUser: env.API_MAX_API_KEYS_PER_USER,
    idempotencyTtlSeconds: Math.max(env.API_IDEMPOTENCY_TTL_SECONDS, 86_400),
    publicOrigin: env.API_PUBLIC_ORIGIN,
    corsOrigins: env.API_CORS_ORIGINS,
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
