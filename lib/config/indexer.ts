import { defineEnvSection } from "./env-section.ts";
import { logLevelField, nonNegativeIntField, positiveIntField } from "./fields.ts";

/** Settings of the indexer process (`npm run indexer`, or in-process under `npm start`). */
export const indexerEnv = defineEnvSection(
  "Indexer",
  {
    INDEXER_CONFIRMATIONS: nonNegativeIntField
      .default(0)
      .describe(
        "Blocks behind the head the indexer stays (0 on the local chain; deeper reorgs are still detected and rolled back)",
      ),
    INDEXER_POLL_INTERVAL_MS: positiveIntField
      .default(1_000)
      .describe("How often the indexer asks the node for a new head, in milliseconds"),
    INDEXER_GET_LOGS_INITIAL_RANGE: positiveIntField
      .default(1)
      .describe(
        "Blocks of the first eth_getLogs call of a backfill: a probe, the next ranges are sized by the logs per block it returned",
      ),
    INDEXER_GET_LOGS_MAX_RANGE: positiveIntField.default(50_000).describe("Largest block range per eth_getLogs call"),
    INDEXER_GET_LOGS_TARGET: positiveIntField
      .default(5_000)
      .describe("Logs per eth_getLogs response the range is sized to (responses also stay under 4 MiB)"),
    INDEXER_BLOCK_LOG_LEVEL: logLevelField
      .default("debug")
      .describe("Level of the one log line per new block when following the head"),
    INDEXER_STANDBY_RETRY_MS: positiveIntField
      .default(2_000)
      .describe("How often a standby indexer retries the advisory lock held by the active one, in milliseconds"),
  },
  (env) => ({
    confirmations: env.INDEXER_CONFIRMATIONS,
    pollIntervalMs: env.INDEXER_POLL_INTERVAL_MS,
    getLogs: {
      initialRange: env.INDEXER_GET_LOGS_INITIAL_RANGE,
      maxRange: env.INDEXER_GET_LOGS_MAX_RANGE,
      targetLogsPerRequest: env.INDEXER_GET_LOGS_TARGET,
    },
    blockLogLevel: env.INDEXER_BLOCK_LOG_LEVEL,
    standbyRetryMs: env.INDEXER_STANDBY_RETRY_MS,
  }),
);

export type IndexerSettings = ReturnType<typeof indexerEnv.toSettings>;
