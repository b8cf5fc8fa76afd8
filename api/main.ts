/**
 * The API process (`npm run api`): opens what the HTTP API needs — database, chain, deployment,
 * the relay gateway — starts it, and closes it all on SIGINT/SIGTERM. Several may run behind a
 * load balancer; with PGlite (single-process) run the stack with `npm start` instead.
 */
import { apiEnv } from "../lib/config/api.ts";
import { chainEnv, databaseEnv, redisEnv } from "../lib/config/sections.ts";
import { webhooksEnv } from "../lib/config/webhooks.ts";
import { openDatabase } from "../lib/db/database.ts";
import { bootstrapProcess, connectDeployment, runMain } from "../lib/process/bootstrap.ts";
import { createRelayGateway } from "../relayer/index.ts";
import { startApiServer } from "./server.ts";

runMain("api", async () => {
  const { config, logger, shutdown } = bootstrapProcess("api", {
    chain: chainEnv,
    database: databaseEnv,
    redis: redisEnv,
    api: apiEnv,
    webhooks: webhooksEnv,
  });
  const { publicClient, deployment } = await connectDeployment(config.chain);
  const database = await openDatabase(config.database);
  shutdown.register({ name: "database", close: database.close });
  const relay = createRelayGateway({ redisUrl: config.redis.url, prefix: config.redis.prefix, database });
  shutdown.register({ name: "relay-queue", close: relay.close });
  const server = await startApiServer({
    logger,
    settings: config.api,
    dataDir: config.common.dataDir,
    database,
    redisUrl: config.redis.url,
    redisPrefix: config.redis.prefix,
    publicClient,
    deployment,
    relay,
    webhooks: config.webhooks,
  });
  shutdown.register({ name: "http", close: server.close });
  logger.info({ url: server.url }, "API listening");
  await shutdown.closed;
  process.exit(0);
});
