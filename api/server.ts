/**
 * The API process: opens what buildApp needs, listens, and closes it all on SIGINT/SIGTERM.
 * `startApiServer` is also what `npm start` calls in-process (sharing its database and chain).
 *
 * Inputs: configuration (lib/config/api.ts and the shared sections), the deployment file, the
 * relayer's enqueue/status functions. Output: an HTTP server on API_HOST:API_PORT.
 */
import { pathToFileURL } from "node:url";

import type { FastifyInstance } from "fastify";
import type { Registry } from "prom-client";
import { createPublicClient, http, type PublicClient } from "viem";
import { z } from "zod";

import { apiEnv, type ApiSettings } from "../lib/config/api.ts";
import { chainEnv, commonEnv, databaseEnv, redisEnv, shutdownEnv } from "../lib/config/sections.ts";
import { stablerailChain } from "../lib/chain/chain.ts";
import { readDeployment, type Deployment } from "../lib/chain/deployments.ts";
import { openDatabase, type Database } from "../lib/db/database.ts";
import { runMigrations } from "../lib/db/migrate.ts";
import { ledgerMigrations } from "../lib/ledger/migration-set.ts";
import { createLogger, type Logger } from "../lib/logging/logger.ts";
import { createShutdown } from "../lib/process/shutdown.ts";
import { buildApp } from "./app.ts";
import { ensureBootstrapAdmin } from "./auth/bootstrap-admin.ts";
import { apiMigrations } from "./db/migration-set.ts";
import type { RelayGateway } from "./money/relay-gateway.ts";
import { createApiRedis } from "./redis.ts";
import { createRelayerGateway } from "./money/relayer-gateway.ts";
import { createRelayQueue } from "./relayer/queue.ts";
import { loadKeyEncryptionKey } from "./wallets/load-key-encryption-key.ts";

export type StartApiServerParameters = {
  logger: Logger;
  settings: ApiSettings;
  dataDir: string;
  database: Database;
  redisUrl: string;
  redisPrefix: string;
  publicClient: PublicClient;
  deployment: Deployment;
  relay: RelayGateway;
  metricsRegistry?: Registry | undefined;
};

export type ApiServer = {
  app: FastifyInstance;
  url: string;
  bootstrapAdminKey: string | undefined;
  close: () => Promise<void>;
};

/**
 * Applies the API migrations, bootstraps the admin key, builds the app and listens.
 * @returns the listening server; `close()` stops accepting, drains requests, then closes Redis
 */
export async function startApiServer(p: StartApiServerParameters): Promise<ApiServer> {
  await runMigrations(p.database, [ledgerMigrations, apiMigrations]);
  const keyEncryptionKey = await loadKeyEncryptionKey(p.settings.keyEncryptionKey, p.dataDir, p.logger);
  const bootstrapAdminKey = await ensureBootstrapAdmin(p.database, p.logger, p.settings.bootstrapAdminKey);
  const redis = createApiRedis(p.redisUrl);
  const app = await buildApp({
    logger: p.logger,
    settings: p.settings,
    database: p.database,
    redis,
    redisPrefix: p.redisPrefix,
    chainId: p.deployment.chainId,
    publicClient: p.publicClient,
    contracts: { stablecoin: p.deployment.contracts.Stablecoin.address },
    keyEncryptionKey,
    relay: p.relay,
    metricsRegistry: p.metricsRegistry,
  });
  const url = await app.listen({ host: p.settings.host, port: p.settings.port });
  return {
    app,
    url,
    bootstrapAdminKey,
    close: async () => {
      await app.close();
      redis.disconnect();
    },
  };
}

/** Parses one section (loadConfig's section typing is being fixed in lib; see the report). */
function parseSection<S extends { shape: z.ZodRawShape; toSettings: (env: never) => unknown }>(
  section: S,
): ReturnType<S["toSettings"]> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([, value]) => value !== undefined && value !== ""),
  );
  return section.toSettings(z.object(section.shape).parse(env) as never) as ReturnType<S["toSettings"]>;
}

async function main(): Promise<void> {
  const common = parseSection(commonEnv);
  const chainSettings = parseSection(chainEnv);
  const databaseSettings = parseSection(databaseEnv);
  const redisSettings = parseSection(redisEnv);
  const shutdownSettings = parseSection(shutdownEnv);
  const settings = parseSection(apiEnv);
  const logger = createLogger({ name: "api", level: common.logLevel });
  const shutdown = createShutdown({ logger, timeoutMs: shutdownSettings.timeoutMs, handleSignals: true });
  const deployment = await readDeployment(chainSettings.deploymentsDir, chainSettings.chainId);
  const publicClient = createPublicClient({
    chain: stablerailChain(chainSettings.chainId, chainSettings.rpcUrl),
    transport: http(chainSettings.rpcUrl),
  }) as PublicClient;
  const database = await openDatabase({
    url: databaseSettings.url,
    pgliteDir: databaseSettings.pgliteDir,
    schema: databaseSettings.schema,
    poolSize: databaseSettings.poolSize,
  });
  shutdown.register({ name: "database", close: database.close });
  const relayQueue = createRelayQueue({ redis: redisSettings.url, prefix: redisSettings.prefix });
  shutdown.register({ name: "relay-queue", close: relayQueue.close });
  // The relayer's status reads (getRelay) are not in api/relayer yet; until they land, transfers show the API's own status.
  const relay = createRelayerGateway({ queue: relayQueue, getRelay: async () => undefined });
  const server = await startApiServer({
    logger,
    settings,
    dataDir: common.dataDir,
    database,
    redisUrl: redisSettings.url,
    redisPrefix: redisSettings.prefix,
    publicClient,
    deployment,
    relay,
  });
  shutdown.register({ name: "http", close: server.close });
  logger.info({ url: server.url }, "API listening");
  await shutdown.closed;
  process.exit(0);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`api: start failed: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  });
}
