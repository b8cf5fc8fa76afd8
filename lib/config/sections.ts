import { resolve } from "node:path";

import { z } from "zod";

import { defineEnvSection } from "./env-section.ts";
import { booleanField, logLevelField, nonNegativeIntField, positiveIntField, urlField } from "./fields.ts";

/**
 * Environment sections shared by every process. Component-specific sections live beside the
 * component's settings (indexer, api, relayer) in this folder, one file each.
 */

export const commonEnv = defineEnvSection(
  "Common",
  {
    LOG_LEVEL: logLevelField
      .default("info")
      .describe("Log level of every process: fatal|error|warn|info|debug|trace|silent"),
    LOG_FORMAT: z
      .enum(["auto", "pretty", "json"])
      .default("auto")
      .describe("Log lines: pretty (human-readable), json (one JSON object per line), or auto: pretty on a terminal"),
    DATA_DIR: z
      .string()
      .default(".stablerail")
      .describe(
        "Folder for local state: the Redis data of a redis-server started by npm start and the generated key-encryption key (git-ignored; PGLITE_DIR and DEPLOYMENTS_DIR are set on their own)",
      ),
  },
  (env) => ({ logLevel: env.LOG_LEVEL, logFormat: env.LOG_FORMAT, dataDir: resolve(env.DATA_DIR) }),
);

export const chainEnv = defineEnvSection(
  "Chain",
  {
    RPC_URL: urlField.default("http://127.0.0.1:8545").describe("JSON-RPC endpoint of the EVM chain"),
    CHAIN_ID: positiveIntField
      .default(31337)
      .describe("Chain id the services expect; start-up fails if the node reports another"),
    DEPLOYMENTS_DIR: z
      .string()
      .default(".stablerail/deployments")
      .describe("Folder holding <chainId>.json with the deployed contract addresses"),
  },
  (env) => ({ rpcUrl: env.RPC_URL, chainId: env.CHAIN_ID, deploymentsDir: resolve(env.DEPLOYMENTS_DIR) }),
);

export const databaseEnv = defineEnvSection(
  "Database",
  {
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
      .optional()
      .describe("PostgreSQL server URL; unset means the embedded PGlite database in PGLITE_DIR"),
    PGLITE_DIR: z.string().default(".stablerail/pglite").describe("Data folder of the embedded PGlite database"),
    PGLITE_THREAD: booleanField
      .default(true)
      .describe(
        "Embedded PGlite: run it in a worker thread, beside the event loop (more requests per second under concurrency); false runs it in the caller's thread (a lone client's submit 1.5–4 ms faster, many clients' 20–30 % slower)",
      ),
    DATABASE_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_]*$/, "must be a lower-case SQL identifier")
      .default("stablerail")
      .describe("PostgreSQL schema holding Stablerail's tables"),
    PGLITE_VACUUM_INTERVAL_MS: nonNegativeIntField
      .default(2000)
      .describe(
        "Embedded PGlite: how often to vacuum and analyze the tables past autovacuum's default thresholds (PGlite has no autovacuum; lib/db/pglite-maintenance.ts); 0 never",
      ),
    DATABASE_POOL_SIZE: positiveIntField.default(10).describe("Connections per process to a PostgreSQL server"),
    DATABASE_NAMED_STATEMENTS: booleanField
      .default(true)
      .describe(
        "PostgreSQL server: parse each parameterised statement once per connection and run it by name; false behind a pooler that cannot keep them (PgBouncer in transaction mode before 1.21)",
      ),
  },
  (env) => ({
    url: env.DATABASE_URL,
    pgliteDir: resolve(env.PGLITE_DIR),
    pgliteThread: env.PGLITE_THREAD,
    pgliteVacuumIntervalMs: env.PGLITE_VACUUM_INTERVAL_MS,
    schema: env.DATABASE_SCHEMA,
    poolSize: env.DATABASE_POOL_SIZE,
    namedStatements: env.DATABASE_NAMED_STATEMENTS,
  }),
);

export const redisEnv = defineEnvSection(
  "Redis",
  {
    REDIS_URL: z
      .string()
      .regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL")
      .default("redis://127.0.0.1:6379")
      .describe("Redis for the relay queue, rate limits and idempotency keys"),
    REDIS_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, "letters, digits, _ and - only")
      .default("stablerail")
      .describe("Prefix of every Redis key (BullMQ queues included)"),
  },
  (env) => ({ url: env.REDIS_URL, prefix: env.REDIS_PREFIX }),
);

export const shutdownEnv = defineEnvSection(
  "Shutdown",
  {
    SHUTDOWN_TIMEOUT_MS: nonNegativeIntField
      .default(10_000)
      .describe("Hard deadline for a graceful stop after SIGINT/SIGTERM, in milliseconds"),
  },
  (env) => ({ timeoutMs: env.SHUTDOWN_TIMEOUT_MS }),
);

export type CommonSettings = ReturnType<typeof commonEnv.toSettings>;
export type ChainSettings = ReturnType<typeof chainEnv.toSettings>;
export type DatabaseSettings = ReturnType<typeof databaseEnv.toSettings>;
export type RedisSettings = ReturnType<typeof redisEnv.toSettings>;
