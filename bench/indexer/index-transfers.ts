/**
 * Indexer benchmark: 100,000 Transfer events (BENCH_EVENTS) on a local `hardhat node`, indexed
 * into PGlite and into PostgreSQL, from a cold start (historical backfill) and by realtime
 * following (block by block, parent-hash checked, one transaction per block), against the bare
 * cost of fetching the same logs with viem and doing nothing with them. Prints figures; asserts nothing.
 *
 * Workload: the test token's `transferMany` emits 250 real ERC-20 `Transfer` logs per transaction
 * (one transaction per block, automine), to 1,000 recycled recipients — the indexer's cost per event
 * is the same as for the Stablecoin's transfers (same event, same decode and posting path), while
 * 100k single transfers would take the node minutes to mine.
 *
 * Run: `tsx bench/indexer/index-transfers.ts` (PostgreSQL at TEST_DATABASE_URL or 127.0.0.1:5432/test).
 */
import { createWalletClient, http, padHex, type Abi, type Address, type Hash } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { stablerailChain } from "../../lib/chain/chain.ts";
import type { Database } from "../../lib/db/database.ts";
import { runMigrations } from "../../lib/db/migrate.ts";
import { ledgerMigrations } from "../../lib/ledger/migration-set.ts";
import { createLogger } from "../../lib/logging/logger.ts";
import { createDecoder } from "../../indexer/decode/decode-log.ts";
import { createLedgerWriter } from "../../indexer/ledger/writer.ts";
import { createRpc } from "../../indexer/rpc/rpc.ts";
import { startIndexer } from "../../indexer/runtime/start-indexer.ts";
import { createRealtimeSync } from "../../indexer/sync/realtime.ts";
import { HARDHAT_PRIVATE_KEYS } from "../../test/helpers/chain.ts";
import { createTestDatabase, type TestEngine } from "../../test/helpers/database.ts";
import { compileTestToken, deployTestToken } from "../../test/indexer/fixtures/test-token.ts";
import { startHardhatNode } from "../../test/indexer/helpers/processes.ts";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const PER_TX = 250;
const logger = createLogger({ name: "bench", level: "warn", pretty: false });
const settings = {
  confirmations: 0,
  pollIntervalMs: 1_000,
  getLogs: { initialRange: 10, maxRange: 10_000, targetLogsPerRequest: 10_000 },
  blockLogLevel: "trace" as const,
  standbyRetryMs: 1_000,
};

const line = (label: string, value: string) => process.stdout.write(`${label.padEnd(48)} ${value}\n`);
const rate = (events: number, ms: number) =>
  `${Math.round(events / (ms / 1000)).toLocaleString("en-US")} events/s (${(ms / 1000).toFixed(2)} s)`;

async function main() {
  const node = await startHardhatNode();
  try {
    const account = privateKeyToAccount(HARDHAT_PRIVATE_KEYS[0]);
    const wallet = createWalletClient({ account, chain: stablerailChain(31337, node.url), transport: http(node.url) });
    const { abi } = compileTestToken();
    const token = await deployTestToken(node.client, wallet);
    await node.client.waitForTransactionReceipt({
      hash: await wallet.writeContract({
        address: token.address,
        abi: abi as Abi,
        functionName: "mint",
        args: [account.address, 10n ** 30n],
      }),
    });
    const recipients = Array.from(
      { length: 1000 },
      (_, i) => padHex(`0x${(i + 1).toString(16)}`, { size: 20 }) as Address,
    );
    const generationStart = Date.now();
    let last: Hash | undefined;
    for (let sent = 0; sent < EVENTS; sent += PER_TX) {
      const to = Array.from({ length: PER_TX }, (_, i) => recipients[(sent + i) % recipients.length]!);
      last = await wallet.writeContract({
        address: token.address,
        abi: abi as Abi,
        functionName: "transferMany",
        args: [to, to.map((_, i) => BigInt(i + 1))],
        gas: 15_000_000n,
      });
    }
    await node.client.waitForTransactionReceipt({ hash: last! });
    const head = await node.client.getBlockNumber();
    const events = EVENTS + 1;
    line(
      "workload",
      `${events.toLocaleString("en-US")} Transfer events in ${head - token.blockNumber + 1n} blocks (generated in ${((Date.now() - generationStart) / 1000).toFixed(1)} s)`,
    );

    // Bare viem: eth_getLogs over ranges of ~5,000 logs (what the backfill's adaptive range settles on;
    // viem's http transport refuses response bodies over 10 MB), nothing done with the logs.
    const bareStart = Date.now();
    let fetched = 0;
    const bareRange = BigInt(Math.max(1, Math.floor(settings.getLogs.targetLogsPerRequest / 2 / PER_TX)));
    for (let from = token.blockNumber; from <= head; from += bareRange) {
      const to = from + bareRange - 1n;
      fetched += (
        await node.client.getLogs({ address: token.address, fromBlock: from, toBlock: to > head ? head : to })
      ).length;
    }
    const bareMs = Date.now() - bareStart;
    line("bare viem getLogs (no processing)", rate(fetched, bareMs));

    for (const engine of ["pglite", "postgres"] as TestEngine[]) {
      const cold = await createTestDatabase(engine, "bench_cold");
      const coldMs = await time(async () => {
        const indexer = await startIndexer({
          common: { logger },
          database: cold,
          client: node.client,
          chainId: 31337,
          contracts: { Stablecoin: token.address },
          startBlock: token.blockNumber,
          settings,
          follow: false,
        });
        await indexer.catchUp();
      });
      line(`${engine}: cold start (backfill)`, `${rate(events, coldMs)} — ${(coldMs / bareMs).toFixed(1)}× bare fetch`);
      await cold.drop();

      const live = await createTestDatabase(engine, "bench_realtime");
      const realtimeMs = await followBlockByBlock(live, node.client, token.address, token.blockNumber);
      line(
        `${engine}: realtime following (block by block)`,
        `${rate(events, realtimeMs)} — ${(realtimeMs / bareMs).toFixed(1)}× bare fetch`,
      );
      await live.drop();
    }
  } catch (error) {
    process.stderr.write(`hardhat node exit code ${node.process.exitCode}; its stderr:\n${node.stderr()}\n`);
    throw error;
  } finally {
    await node.stop();
  }
}

async function time(fn: () => Promise<void>): Promise<number> {
  const start = Date.now();
  await fn();
  return Date.now() - start;
}

/** The realtime path alone: every block fetched, parent-checked and written in its own transaction. */
async function followBlockByBlock(
  database: Database,
  client: Parameters<typeof createRpc>[0]["client"],
  token: Address,
  startBlock: bigint,
): Promise<number> {
  await runMigrations(database, [ledgerMigrations]);
  const rpc = createRpc({ client });
  const decoder = createDecoder({ chainId: 31337, contracts: { Stablecoin: token } });
  const writer = createLedgerWriter({ database, chainId: 31337, context: {} });
  await writer.resetChain((await rpc.getBlockHeader(0n)).hash, startBlock);
  const realtime = createRealtimeSync({
    rpc,
    decoder,
    confirmations: 0,
    storedBlocksBelow: writer.storedBlocksBelow,
    floor: startBlock - 1n,
  });
  let writing = 0;
  const total = await time(async () => {
    for await (const event of realtime.catchUp({ number: startBlock - 1n, hash: "0x" })) {
      const started = Date.now();
      if (event.type === "block") await writer.commit({ blocks: [event.block], logs: event.logs, head: event.block });
      writing += Date.now() - started;
    }
  });
  line(`  of which writing to ${database.engine}`, `${(writing / 1000).toFixed(2)} s`);
  return total;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
