/**
 * `npm start`: the whole stack on one machine, on embedded defaults.
 *
 * 1. chain     — the node at RPC_URL, or Hardhat's EVM served from this process on 127.0.0.1:8545
 * 2. contracts — deployed through Ignition unless this chain already has them; addresses in
 *                DEPLOYMENTS_DIR/<chainId>.json
 * 3. redis     — REDIS_URL, or a `redis-server` child with its data under DATA_DIR/redis
 * 4. database  — PostgreSQL at DATABASE_URL, or embedded PGlite under PGLITE_DIR; migrations applied
 * 5. indexer, relayer workers and the HTTP API, in this process (PGlite is single-process)
 *
 * One line per component says where it is. Ctrl-C stops everything in reverse order; a second
 * `npm start` reuses the database and Redis data.
 */
import { Registry } from "prom-client";
import { privateKeyToAccount } from "viem/accounts";

import { startApiServer, startWebhooks } from "../api/index.ts";
import { startIndexer } from "../indexer/index.ts";
import { apiEnv } from "../lib/config/api.ts";
import { indexerEnv } from "../lib/config/indexer.ts";
import { relayerEnv } from "../lib/config/relayer.ts";
import { chainEnv, databaseEnv, redisEnv } from "../lib/config/sections.ts";
import { webhooksEnv } from "../lib/config/webhooks.ts";
import { openDatabase } from "../lib/db/database.ts";
import { isStablerailError } from "../lib/errors/base.ts";
import { bootstrapProcess } from "../lib/process/bootstrap.ts";
import { createRelayGateway, startRelayerWorkers } from "../relayer/index.ts";
import { ensureDeployment } from "./stack/deployment.ts";
import { ensureLocalChain } from "./stack/local-chain.ts";
import { ensureRedis } from "./stack/local-redis.ts";

const announce = (component: string, text: string) => process.stdout.write(`${component.padEnd(10)} ${text}\n`);

async function main(): Promise<void> {
  const { config, logger, shutdown } = bootstrapProcess(
    "start",
    {
      chain: chainEnv,
      database: databaseEnv,
      redis: redisEnv,
      indexer: indexerEnv,
      api: apiEnv,
      relayer: relayerEnv,
      webhooks: webhooksEnv,
    },
    { onForced: () => process.exit(1) },
  );
  // The composition root: the one place that knows the relayer's operator key is also the escrow
  // operator and payout account the deployment grants and records (the API reads only the address).
  const operator = privateKeyToAccount(config.relayer.operatorKey).address;

  const chain = await ensureLocalChain({ rpcUrl: config.chain.rpcUrl, chainId: config.chain.chainId, logger });
  shutdown.register({ name: "chain", close: chain.close });
  announce(
    "chain",
    `${config.chain.rpcUrl} (chain ${config.chain.chainId}${chain.managed ? ", Hardhat EVM served by this process" : ""})`,
  );

  const { deployment, reused } = await ensureDeployment({
    publicClient: chain.publicClient,
    chainId: config.chain.chainId,
    deploymentsDir: config.chain.deploymentsDir,
    logger,
    operator,
  });
  for (const [name, contract] of Object.entries(deployment.contracts)) {
    announce(
      "contract",
      `${name.padEnd(20)} ${contract.address} (block ${contract.blockNumber}${reused ? ", reused" : ""})`,
    );
  }

  const redis = await ensureRedis({ url: config.redis.url, dataDir: config.common.dataDir, logger });
  shutdown.register({ name: "redis", close: redis.close });
  announce(
    "redis",
    `${redis.url}${redis.managed ? ` (redis-server started with data in ${config.common.dataDir}/redis)` : ""}`,
  );

  const database = await openDatabase(config.database);
  shutdown.register({ name: "database", close: database.close });
  announce(
    "database",
    database.engine === "pglite"
      ? `PGlite in ${config.database.pgliteDir} (schema ${database.schema})`
      : `PostgreSQL (schema ${database.schema})`,
  );

  const { Stablecoin, PaymentEscrow, Settlement } = deployment.contracts;
  const indexer = await startIndexer({
    common: { logger: logger.child({ name: "indexer" }) },
    database,
    client: chain.publicClient,
    chainId: config.chain.chainId,
    contracts: { Stablecoin: Stablecoin.address, PaymentEscrow: PaymentEscrow.address, Settlement: Settlement.address },
    startBlock: deployment.startBlock,
    settings: config.indexer,
  });
  shutdown.register({ name: "indexer", close: indexer.stop });
  announce(
    "indexer",
    `following chain ${config.chain.chainId} from block ${deployment.startBlock} (confirmations ${config.indexer.confirmations})`,
  );

  // One registry: the API's /metrics serves the relayer's metrics too.
  const metricsRegistry = new Registry();
  const workers = await startRelayerWorkers({
    database,
    redisUrl: redis.url,
    prefix: config.redis.prefix,
    publicClient: chain.publicClient,
    logger: logger.child({ name: "relayer" }),
    settings: config.relayer,
    registry: metricsRegistry,
    contracts: {
      stablecoin: Stablecoin.address,
      paymentEscrow: PaymentEscrow.address,
      settlement: Settlement.address,
      forwarder: deployment.contracts.StablerailForwarder.address,
    },
  });
  shutdown.register({ name: "relayer", close: workers.close });
  announce("relayer", `${workers.keys.length} key(s) leased: ${workers.keys.map((key) => key.address).join(", ")}`);

  const relay = createRelayGateway({ redisUrl: redis.url, prefix: config.redis.prefix, database });
  shutdown.register({ name: "relay-queue", close: relay.close });

  const api = await startApiServer({
    logger: logger.child({ name: "api" }),
    settings: config.api,
    dataDir: config.common.dataDir,
    database,
    redisUrl: redis.url,
    redisPrefix: config.redis.prefix,
    publicClient: chain.publicClient,
    deployment,
    relay,
    metricsRegistry,
    webhooks: config.webhooks,
  });
  shutdown.register({ name: "api", close: api.close });
  announce("api", `${api.url} (OpenAPI docs at ${api.url}/docs)`);
  if (api.bootstrapAdminKey) announce("admin key", `${api.bootstrapAdminKey} (shown once; create users with it)`);

  const webhooks = startWebhooks({
    database,
    redisUrl: redis.url,
    prefix: config.redis.prefix,
    chainId: config.chain.chainId,
    logger,
    settings: config.webhooks,
  });
  shutdown.register({ name: "webhooks", close: webhooks.close });
  announce("webhooks", "delivering indexed payment and settlement events to merchant endpoints");

  announce("ready", "Ctrl-C stops everything");
  await shutdown.closed;
  process.exit(0);
}

main().catch((error: unknown) => {
  if (isStablerailError(error)) {
    process.stderr.write(`\nstablerail: ${error.shortMessage}\n`);
  } else {
    process.stderr.write(`\nstablerail: start failed: ${(error as Error)?.stack ?? String(error)}\n`);
  }
  process.exit(1);
});
