/**
 * The relayer process (`npm run relayer`): consumes the relay queues and sends relays from the
 * relayer keys it leases — as many processes as you like, sharing the keys through Redis leases.
 * Inputs: configuration (Chain, Database, Redis, Relayer sections), the deployment file. Outputs:
 * transactions on chain, relay rows and transitions in the database.
 */
import { relayerEnv } from "../lib/config/relayer.ts";
import { chainEnv, databaseEnv, redisEnv } from "../lib/config/sections.ts";
import { openDatabase } from "../lib/db/database.ts";
import { bootstrapProcess, connectDeployment, runMain } from "../lib/process/bootstrap.ts";
import { startRelayerWorkers } from "./start-relayer-workers.ts";

runMain("relayer", async () => {
  const { config, logger, shutdown } = bootstrapProcess("relayer", {
    chain: chainEnv,
    database: databaseEnv,
    redis: redisEnv,
    relayer: relayerEnv,
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
  logger.info({ keys: workers.keys.map((key) => key.address) }, "relay workers running");
  await shutdown.closed;
  process.exit(0);
});
