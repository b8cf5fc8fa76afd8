/**
 * `npm run worker`: the background work of the stack in one process — the relayer's workers
 * (relayer/) and the API's webhook delivery (api/webhooks/). Each can also run alone: `npm run
 * relayer` for the relay workers. Start as many as you like: keys are shared through Redis leases,
 * webhook jobs are keyed by endpoint and event, so nothing is sent twice.
 */
import { startWebhooks } from "../api/index.ts";
import { relayerEnv } from "../lib/config/relayer.ts";
import { chainEnv, databaseEnv, redisEnv } from "../lib/config/sections.ts";
import { webhooksEnv } from "../lib/config/webhooks.ts";
import { openDatabase } from "../lib/db/database.ts";
import { bootstrapProcess, connectDeployment, runMain } from "../lib/process/bootstrap.ts";
import { startRelayerWorkers } from "../relayer/index.ts";

runMain("worker", async () => {
  const { config, logger, shutdown } = bootstrapProcess("worker", {
    chain: chainEnv,
    database: databaseEnv,
    redis: redisEnv,
    relayer: relayerEnv,
    webhooks: webhooksEnv,
  });
  const { publicClient, contracts } = await connectDeployment(config.chain);
  const database = await openDatabase(config.database);
  shutdown.register({ name: "database", close: database.close });
  const workers = await startRelayerWorkers({
    database,
    redisUrl: config.redis.url,
    prefix: config.redis.prefix,
    publicClient,
    logger,
    settings: config.relayer,
    contracts,
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
});
