import { apiEnv } from "./api.ts";
import { auditorEnv } from "./auditor.ts";
import { indexerEnv } from "./indexer.ts";
import { relayerEnv } from "./relayer.ts";
import { chainEnv, commonEnv, databaseEnv, redisEnv, shutdownEnv } from "./sections.ts";
import { webhooksEnv } from "./webhooks.ts";

/**
 * Every environment section of the stack, in the order `.env.example` documents them.
 * A new section is added here so that it is documented (a test keeps .env.example in step).
 */
export const allEnvSections = [
  commonEnv,
  chainEnv,
  databaseEnv,
  redisEnv,
  shutdownEnv,
  indexerEnv,
  relayerEnv,
  apiEnv,
  webhooksEnv,
  auditorEnv,
] as const;
