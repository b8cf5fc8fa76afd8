/**
 * Builds every stage of the indexer for one chain and starts it. Called by indexer/main.ts (its
 * own process) and in-process by `npm start`, which shares one Database with the API.
 */
import type { Address, PublicClient } from "viem";

import type { IndexerSettings } from "../../lib/config/indexer.ts";
import type { Database } from "../../lib/db/database.ts";
import { runMigrations } from "../../lib/db/migrate.ts";
import { ledgerMigrations } from "../../lib/ledger/migration-set.ts";
import type { Logger } from "../../lib/logging/logger.ts";
import { createDecoder, type IndexedContracts } from "../decode/decode-log.ts";
import { createReadIndexes } from "../ledger/read-indexes.ts";
import { createLedgerWriter } from "../ledger/writer.ts";
import { createRpc } from "../rpc/rpc.ts";
import { createHistoricalSync } from "../sync/historical.ts";
import { createRealtimeSync } from "../sync/realtime.ts";
import { createIndexer, type Indexer } from "./create-indexer.ts";

export type StartIndexerParameters = {
  common: { logger: Logger };
  database: Database;
  client: PublicClient;
  chainId: number;
  /** Addresses of the contracts to index (from the deployment file). */
  contracts: IndexedContracts;
  /** First block to read (the deployment's `startBlock`). */
  startBlock: number | bigint;
  settings: IndexerSettings;
  /** Start following at once (default). `false` returns the indexer for `catchUp()` calls (tests, benchmarks). */
  follow?: boolean;
};

/**
 * Applies the ledger migrations, wires the stages and (by default) starts following the chain.
 * @returns the indexer; `await indexer.stop()` on shutdown
 * @example
 * const indexer = await startIndexer({ common: { logger }, database, client, chainId: 31337,
 *   contracts: { Stablecoin, PaymentEscrow, Settlement }, startBlock: deployment.startBlock, settings: config.indexer });
 * shutdown.register({ name: "indexer", close: indexer.stop });
 */
export async function startIndexer({
  common,
  database,
  client,
  chainId,
  contracts,
  startBlock,
  settings,
  follow = true,
}: StartIndexerParameters): Promise<Indexer> {
  await runMigrations(database, [ledgerMigrations]);
  const start = BigInt(startBlock);
  const rpc = createRpc({ client });
  const decoder = createDecoder({ chainId, contracts });
  const writer = createLedgerWriter({
    database,
    chainId,
    context: { escrow: contracts.PaymentEscrow, settlement: contracts.Settlement },
  });
  const historical = createHistoricalSync({
    common,
    rpc,
    decoder,
    options: { ...settings.getLogs, headerConcurrency: 16 },
  });
  const realtime = createRealtimeSync({
    rpc,
    decoder,
    confirmations: settings.confirmations,
    storedBlocksBelow: writer.storedBlocksBelow,
    floor: start - 1n,
  });
  const indexer = createIndexer({
    common,
    database,
    chainId,
    startBlock: start,
    rpc,
    decoder,
    writer,
    readIndexes: createReadIndexes({ database, common }),
    historical,
    realtime,
    settings,
    contracts: contracts as Partial<Record<string, Address>>,
  });
  if (follow) void indexer.run().catch((error: unknown) => common.logger.fatal({ err: error }, "indexer stopped"));
  return indexer;
}
