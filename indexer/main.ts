/**
 * `npm run indexer`: the indexer as its own process. Wires configuration, logger, database,
 * chain client and deployment into {@link startIndexer}; SIGINT/SIGTERM stop it cleanly.
 */
import { existsSync } from "node:fs";

import { createPublicClient, http } from "viem";

import { stablerailChain } from "../lib/chain/chain.ts";
import { readDeployment } from "../lib/chain/deployments.ts";
import { loadConfig } from "../lib/config/env-section.ts";
import { indexerEnv } from "../lib/config/indexer.ts";
import { chainEnv, commonEnv, databaseEnv, shutdownEnv } from "../lib/config/sections.ts";
import { openDatabase } from "../lib/db/database.ts";
import { isStablerailError, UnavailableError } from "../lib/errors/base.ts";
import { createLogger } from "../lib/logging/logger.ts";
import { createShutdown } from "../lib/process/shutdown.ts";
import { startIndexer } from "./runtime/start-indexer.ts";

if (existsSync(".env")) process.loadEnvFile(".env");

async function main(): Promise<void> {
  const config = loadConfig({
    common: commonEnv,
    chain: chainEnv,
    database: databaseEnv,
    shutdown: shutdownEnv,
    indexer: indexerEnv,
  });
  const logger = createLogger({ name: "indexer", level: config.common.logLevel });
  const shutdown = createShutdown({ logger, timeoutMs: config.shutdown.timeoutMs, handleSignals: true });

  const client = createPublicClient({
    chain: stablerailChain(config.chain.chainId, config.chain.rpcUrl),
    transport: http(config.chain.rpcUrl),
    pollingInterval: config.indexer.pollIntervalMs,
  });
  const nodeChainId = await client.getChainId().catch((error: unknown) => {
    throw new UnavailableError(
      "CHAIN_UNAVAILABLE",
      `No JSON-RPC node answers at ${config.chain.rpcUrl}; start one (npm start) or set RPC_URL`,
      { cause: error },
    );
  });
  if (nodeChainId !== config.chain.chainId)
    throw new UnavailableError(
      "CHAIN_ID_MISMATCH",
      `The node at ${config.chain.rpcUrl} is chain ${nodeChainId}, not CHAIN_ID=${config.chain.chainId}`,
    );
  const deployment = await readDeployment(config.chain.deploymentsDir, config.chain.chainId);

  const database = await openDatabase({ ...config.database });
  shutdown.register({ name: "database", close: database.close });
  const indexer = await startIndexer({
    common: { logger },
    database,
    client,
    chainId: config.chain.chainId,
    contracts: {
      Stablecoin: deployment.contracts.Stablecoin.address,
      PaymentEscrow: deployment.contracts.PaymentEscrow.address,
      Settlement: deployment.contracts.Settlement.address,
    },
    startBlock: deployment.startBlock,
    settings: config.indexer,
  });
  shutdown.register({ name: "indexer", close: indexer.stop });
  await shutdown.closed;
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `indexer: ${isStablerailError(error) ? error.shortMessage : ((error as Error)?.stack ?? String(error))}\n`,
  );
  process.exit(1);
});
