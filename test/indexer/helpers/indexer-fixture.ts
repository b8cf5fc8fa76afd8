import { expect } from "chai";
import type { Abi, Address, PublicClient } from "viem";

import type { IndexerSettings } from "../../../lib/config/indexer.ts";
import type { Database } from "../../../lib/db/database.ts";
import { accountBalances } from "../../../lib/ledger/schema.ts";
import { getIndexedHead } from "../../../lib/ledger/queries/get-indexed-head.ts";
import { createLogger } from "../../../lib/logging/logger.ts";
import type { IndexedContracts } from "../../../indexer/decode/decode-log.ts";
import { startIndexer } from "../../../indexer/runtime/start-indexer.ts";
import { compileTestToken } from "../fixtures/test-token.ts";

export const testIndexerSettings: IndexerSettings = {
  confirmations: 0,
  pollIntervalMs: 50,
  getLogs: { initialRange: 2, maxRange: 1_000, targetLogsPerRequest: 200 },
  blockLogLevel: "debug",
  standbyRetryMs: 50,
};

export const silentLogger = createLogger({
  name: "indexer-test",
  level: process.env.TEST_LOG_LEVEL ?? "silent",
  format: "json",
});

/** An indexer driven by `catchUp()` calls (no polling loop), on the given chain and database. */
export function createTestIndexer(parameters: {
  database: Database;
  client: PublicClient;
  contracts: IndexedContracts;
  startBlock: bigint;
  settings?: Partial<IndexerSettings>;
}) {
  return startIndexer({
    common: { logger: silentLogger },
    database: parameters.database,
    client: parameters.client,
    chainId: 31337,
    contracts: parameters.contracts,
    startBlock: parameters.startBlock,
    settings: { ...testIndexerSettings, ...parameters.settings },
    follow: false,
  });
}

/**
 * The ledger equals the chain at the indexed head: the head hash is the chain's block hash, every
 * holder balance (but the escrow's) equals `balanceOf` at that block, issuance equals −totalSupply, and every entry balances.
 */
export async function expectLedgerEqualsChain(
  database: Database,
  client: PublicClient,
  token: Address,
  escrow?: Address,
): Promise<void> {
  const head = await getIndexedHead(database, { chainId: 31337 });
  expect(head, "indexed head").to.not.equal(undefined);
  const block = await client.getBlock({ blockNumber: head!.number });
  expect(head!.hash).to.equal(block.hash);
  const abi = compileTestToken().abi as Abi;
  const rows = await database.db.select().from(accountBalances);
  let sum = 0n;
  for (const row of rows) {
    sum += BigInt(row.balance);
    const [type, id] = row.account.split(":") as [string, Address];
    // The escrow's own holder account plus its payments' escrow accounts make up its balanceOf (checked by the caller).
    if (type === "holder" && id.toLowerCase() !== escrow?.toLowerCase()) {
      const onChain = (await client.readContract({
        address: token,
        abi,
        functionName: "balanceOf",
        args: [id],
        blockNumber: head!.number,
      })) as bigint;
      expect(BigInt(row.balance), `${row.account}`).to.equal(onChain);
    } else if (type === "issuance") {
      const supply = (await client.readContract({
        address: token,
        abi,
        functionName: "totalSupply",
        blockNumber: head!.number,
      })) as bigint;
      expect(BigInt(row.balance), "issuance").to.equal(-supply);
    }
  }
  expect(sum, "Σ balances").to.equal(0n);
  const [unbalanced] = await database.query<{ n: string }>(
    (await import("drizzle-orm"))
      .sql`SELECT count(*) AS n FROM (SELECT 1 FROM postings GROUP BY chain_id, block_number, log_index, token HAVING sum(amount) <> 0) x`,
  );
  expect(Number(unbalanced!.n), "unbalanced entries").to.equal(0);
}
