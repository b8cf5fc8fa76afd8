/**
 * `npm run indexer`: the indexer as its own process. Wires configuration, logger, database,
 * chain client and deployment into {@link startIndexer}; SIGINT/SIGTERM stop it cleanly. A second
 * one on the same database waits as a standby and takes over when the first stops.
 */
import { indexerEnv } from "../lib/config/indexer.ts";
import { chainEnv, databaseEnv } from "../lib/config/sections.ts";
import { openDatabase } from "../lib/db/database.ts";
import { bootstrapProcess, connectDeployment, runMain } from "../lib/process/bootstrap.ts";
import { startIndexer } from "./runtime/start-indexer.ts";

runMain("indexer", async () => {
  const { config, logger, shutdown } = bootstrapProcess("indexer", {
    chain: chainEnv,
    database: databaseEnv,
    indexer: indexerEnv,
  });
  const { publicClient, deployment } = await connectDeployment(config.chain, {
    pollingIntervalMs: config.indexer.pollIntervalMs,
  });
  const database = await openDatabase(config.database);
  shutdown.register({ name: "database", close: database.close });
  const { Stablecoin, PaymentEscrow, Settlement } = deployment.contracts;
  const indexer = await startIndexer({
    common: { logger },
    database,
    client: publicClient,
    chainId: config.chain.chainId,
    contracts: { Stablecoin: Stablecoin.address, PaymentEscrow: PaymentEscrow.address, Settlement: Settlement.address },
    startBlock: deployment.startBlock,
    settings: config.indexer,
  });
  shutdown.register({ name: "indexer", close: indexer.stop });
  await shutdown.closed;
  process.exit(0);
});
