/**
 * The worker process (`npm run worker`): consumes the relay queues and sends relays from the
 * relayer keys it leases, and dispatches and delivers merchant webhooks. Inputs: configuration (Common, Chain, Database, Redis, Shutdown,
 * Relayer sections), the deployment file. Outputs: transactions on chain, relay rows and
 * transitions in the database. `npm start` runs the same workers in-process through
 * {@link startRelayerWorkers}, sharing its Database.
 */
import { pathToFileURL } from "node:url";

import { createPublicClient, http, type PublicClient } from "viem";

import { stablerailChain } from "../lib/chain/chain.ts";
import { readDeployment } from "../lib/chain/deployments.ts";
import { loadConfig } from "../lib/config/env-section.ts";
import { relayerEnv } from "../lib/config/relayer.ts";
import { chainEnv, commonEnv, databaseEnv, redisEnv, shutdownEnv } from "../lib/config/sections.ts";
import { openDatabase } from "../lib/db/database.ts";
import { createLogger } from "../lib/logging/logger.ts";
import { createShutdown } from "../lib/process/shutdown.ts";
import { webhooksEnv } from "../lib/config/webhooks.ts";
import { startRelayerWorkers } from "./relayer/start-relayer-workers.ts";
import { startWebhooks } from "./webhooks/start-webhooks.ts";

export {
  startRelayerWorkers,
  type RelayerWorkers,
  type StartRelayerWorkersParameters,
} from "./relayer/start-relayer-workers.ts";

async function main(): Promise<void> {
  const config = loadConfig({
    common: commonEnv,
    chain: chainEnv,
    database: databaseEnv,
    redis: redisEnv,
    shutdown: shutdownEnv,
    relayer: relayerEnv,
    webhooks: webhooksEnv,
  });
  const logger = createLogger({ name: "relayer", level: config.common.logLevel });
  const shutdown = createShutdown({ logger, timeoutMs: config.shutdown.timeoutMs, handleSignals: true });
  const deployment = await readDeployment(config.chain.deploymentsDir, config.chain.chainId);
  const publicClient = createPublicClient({
    chain: stablerailChain(config.chain.chainId, config.chain.rpcUrl),
    transport: http(config.chain.rpcUrl),
  }) as PublicClient;
  const database = await openDatabase(config.database);
  shutdown.register({ name: "database", close: database.close });
  const workers = await startRelayerWorkers({
    database,
    redisUrl: config.redis.url,
    prefix: config.redis.prefix,
    publicClient,
    logger,
    settings: config.relayer,
    contracts: {
      stablecoin: deployment.contracts.Stablecoin.address,
      paymentEscrow: deployment.contracts.PaymentEscrow.address,
      settlement: deployment.contracts.Settlement.address,
      forwarder: deployment.contracts.StablerailForwarder.address,
    },
  });
  shutdown.register({ name: "relay-workers", close: workers.close });
  const webhooks = startWebhooks({
    database,
    redisUrl: config.redis.url,
    prefix: config.redis.prefix,
    chainId: config.chain.chainId,
    logger,
    settings: config.webhooks,
  });
  shutdown.register({ name: "webhooks", close: webhooks.close });
  logger.info({ keys: workers.keys.map((key) => key.address) }, "relay and webhook workers running");
  await shutdown.closed;
  process.exit(0);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`worker: start failed: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  });
}
