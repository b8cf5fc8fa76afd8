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
import { createPublicClient, http, type Address, type PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { apiEnv, type ApiSettings } from "../lib/config/api.ts";
import { loadConfig } from "../lib/config/env-section.ts";
import { relayerEnv } from "../lib/config/relayer.ts";
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
import { createRelayGateway } from "./relayer/relay-gateway.ts";
import type { RelayContracts } from "./relayer/build-call.ts";
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
  /** The relayer's operator key address: every payment's escrow operator. */
  operator: Address;
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
    contracts: contractsOf(p.deployment),
    keyEncryptionKey,
    relay: p.relay,
    operator: p.operator,
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

/** The deployed addresses the API and the relayer act on. */
export function contractsOf(deployment: Deployment): RelayContracts {
  return {
    stablecoin: deployment.contracts.Stablecoin.address,
    paymentEscrow: deployment.contracts.PaymentEscrow.address,
    settlement: deployment.contracts.Settlement.address,
    forwarder: deployment.contracts.StablerailForwarder.address,
  };
}

async function main(): Promise<void> {
  const config = loadConfig({
    common: commonEnv,
    chain: chainEnv,
    database: databaseEnv,
    redis: redisEnv,
    shutdown: shutdownEnv,
    api: apiEnv,
    relayer: relayerEnv,
  });
  const { common, chain: chainSettings, database: databaseSettings, redis: redisSettings, api: settings } = config;
  const shutdownSettings = config.shutdown;
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
  const relay = createRelayGateway({ redisUrl: redisSettings.url, prefix: redisSettings.prefix, database });
  shutdown.register({ name: "relay-queue", close: relay.close });
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
    operator: privateKeyToAccount(config.relayer.operatorKey).address,
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
