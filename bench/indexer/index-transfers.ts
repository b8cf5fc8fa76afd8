/**
 * Indexer benchmark: 20,000 Transfer events by default (BENCH_EVENTS; 100,000 with `--full` from
 * bench/run-all.ts) at 1,000 per block (BENCH_EVENTS_PER_BLOCK) on a local `hardhat node`, indexed
 * into PGlite and into PostgreSQL, from a cold start (historical backfill) and by realtime
 * following (block by block, parent-hash checked, one transaction per block), against the bare
 * cost of fetching the same logs with viem and doing nothing with them, measured in the same run.
 * Prints figures; asserts nothing about speed (it does stop if the ledger misses an event, since
 * a fast wrong figure is worthless).
 *
 * The indexer runs with the settings a user gets (`indexerEnv` parsed from an empty environment:
 * the same defaults as `npm run indexer`), not a range tuned to this workload, and PGlite where
 * `npm start` keeps it, on disk (bench/lib/pglite-storage.ts).
 *
 * Workload: the test token's `transferMany` emits 250 real ERC-20 `Transfer` logs per transaction,
 * four transactions mined per block (automine off, `evm_mine`), to 1,000 recycled recipients — the indexer's cost per event
 * is the same as for the Stablecoin's transfers (same event, same decode and posting path), while
 * 100k single transfers would take the node minutes to mine.
 *
 * Two bare baselines, one per access pattern:
 * - ranged: eth_getLogs over ranges of 5 blocks (5,000 logs, what the default target asks for
 *   per request); the baseline of the cold start;
 * - per block: eth_getBlockByNumber then eth_getLogs by block hash, block after block — exactly the
 *   calls realtime following makes; the baseline of realtime following.
 * Each baseline is run once unmeasured first, so the node's caches are as warm for it as for the indexer.
 *
 * Realtime following is measured on the already-built chain: the realtime stage and the ledger
 * writer (the objects `startIndexer` wires) run the loop `createIndexer` runs for each new head,
 * from the deployment block to the head. That is its capacity — how many events per second it
 * keeps up with — not a lag under a live producer.
 *
 * Peak RSS of this process is printed after each phase (the indexer runs in-process; the node is a
 * child and not counted): it must not grow with BENCH_EVENTS.
 *
 * With BENCH_CPU_PROFILE_DIR set, the cold start and the realtime phase each write a CPU profile of
 * this process (bench/lib/profile-phase.ts); the node is another process and not in it.
 *
 * Run: `npm run bench:indexer` (the indexer's node flags, lib/process/node-flags.ts; PostgreSQL at TEST_DATABASE_URL or 127.0.0.1:5432/test,
 * each database in a fresh schema that is dropped at the end).
 */
import os from "node:os";

import { sql } from "drizzle-orm";
import type { Address, PublicClient } from "viem";
import { z } from "zod";

import { indexerEnv } from "../../lib/config/indexer.ts";
import type { Database } from "../../lib/db/database.ts";
import { runMigrations } from "../../lib/db/migrate.ts";
import { ledgerMigrations } from "../../lib/ledger/migration-set.ts";
import { createLogger } from "../../lib/logging/logger.ts";
import { createDecoder } from "../../indexer/decode/decode-log.ts";
import { createLedgerWriter } from "../../indexer/ledger/writer.ts";
import { createRpc } from "../../indexer/rpc/rpc.ts";
import { startIndexer } from "../../indexer/runtime/start-indexer.ts";
import { createRealtimeSync } from "../../indexer/sync/realtime.ts";
import { createTestDatabase, type TestEngine } from "../../test/helpers/database.ts";
import { startHardhatNode } from "../../test/indexer/helpers/processes.ts";
import { hasIndexerNodeFlags, INDEXER_NODE_FLAGS, youngGenerationMiB } from "../../lib/process/node-flags.ts";
import { printConditions } from "../lib/conditions.ts";
import { usePgliteStorageOfUsers } from "../lib/pglite-storage.ts";
import { profilePhase } from "../lib/profile-phase.ts";
import { buildTransferChain } from "./transfer-workload.ts";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const PER_BLOCK = Number(process.env.BENCH_EVENTS_PER_BLOCK ?? 1_000);
const ENGINES = (process.env.BENCH_ENGINES ?? "pglite,postgres").split(",") as TestEngine[];
const logger = createLogger({ name: "bench", level: "warn", format: "json" });
// The defaults a user gets from `npm run indexer` with no INDEXER_* variable set.
const settings = { ...indexerEnv.toSettings(z.object(indexerEnv.shape).parse({})), blockLogLevel: "trace" as const };

const line = (label: string, value: string) => process.stdout.write(`${label.padEnd(52)} ${value}\n`);
const rate = (events: number, ms: number) =>
  `${Math.round(events / (ms / 1000)).toLocaleString("en-US")} events/s (${(ms / 1000).toFixed(2)} s)`;
const ratio = (ms: number, baselineMs: number) => `takes ${(ms / baselineMs).toFixed(2)}× the bare fetch's time`;
const rss = () => `peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`;
/** Machine-readable figures for bench/run-all.ts (one JSON line each). */
const figure = (name: string, value: Record<string, unknown>) =>
  process.stdout.write(`BENCH_FIGURE ${JSON.stringify({ bench: "indexer", name, ...value })}\n`);

async function main() {
  printConditions("start");
  line("PGlite's storage (BENCH_PGLITE_STORAGE)", usePgliteStorageOfUsers());
  // The indexer runs in this process: it gets the flags `npm run indexer` gives it, or says it did not.
  line(
    "node flags of the indexer's process",
    hasIndexerNodeFlags()
      ? INDEXER_NODE_FLAGS.join(" ")
      : `missing ${INDEXER_NODE_FLAGS.join(" ")}: not the defaults a user gets (run npm run bench:indexer)`,
  );
  const node = await startHardhatNode();
  try {
    const { token, head, events, generationMs } = await buildTransferChain(node, {
      events: EVENTS,
      perBlock: PER_BLOCK,
    });
    line(
      "workload",
      `${events.toLocaleString("en-US")} Transfer events in ${head - token.blockNumber + 1n} blocks (generated in ${(generationMs / 1000).toFixed(1)} s)`,
    );

    await fetchRanged(node.client, token.address, token.blockNumber, head);
    const ranged = await fetchRanged(node.client, token.address, token.blockNumber, head);
    line(`bare viem getLogs, ranges of ${rangedBlocks} blocks`, rate(ranged.logs, ranged.ms));
    figure("baseline-ranged", { events, ms: ranged.ms });
    await fetchPerBlock(node.client, token.address, token.blockNumber, head);
    const perBlock = await fetchPerBlock(node.client, token.address, token.blockNumber, head);
    line("bare viem getBlock + getLogs, block by block", rate(perBlock.logs, perBlock.ms));
    figure("baseline-per-block", { events, ms: perBlock.ms });
    if (ranged.logs !== events || perBlock.logs !== events)
      throw new Error(`expected ${events} logs, fetched ${ranged.logs} (ranged) and ${perBlock.logs} (per block)`);

    line("after generating and fetching", rss());
    for (const engine of ENGINES) {
      const cold = await createTestDatabase(engine, "bench_cold");
      try {
        const migrationsMs = await time(() => runMigrations(cold, [ledgerMigrations]));
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
        // Timed inside the profile: writing the profile out is not part of the cold start.
        const coldMs = await profilePhase(`indexer-${engine}-cold`, () => time(() => indexer.catchUp()));
        await expectIndexed(cold, events);
        line(`${engine}: cold start (backfill)`, `${rate(events, coldMs)} — ${ratio(coldMs, ranged.ms)}`);
        line(`  after it`, rss());
        figure(`${engine}-cold`, { events, ms: coldMs, ratio: coldMs / ranged.ms, loadavg: os.loadavg()[0] });
        line(`  (migrations before it, not counted)`, `${(migrationsMs / 1000).toFixed(2)} s`);
      } finally {
        await cold.drop();
      }

      const live = await createTestDatabase(engine, "bench_realtime");
      try {
        const { totalMs, writingMs } = await profilePhase(`indexer-${engine}-realtime`, () =>
          followBlockByBlock(live, node.client, token.address, token.blockNumber),
        );
        await expectIndexed(live, events);
        line(
          `${engine}: realtime following (block by block)`,
          `${rate(events, totalMs)} — ${ratio(totalMs, perBlock.ms)}`,
        );
        line(`  of which writing to ${engine}`, `${(writingMs / 1000).toFixed(2)} s`);
        line(`  after it`, rss());
        figure(`${engine}-realtime`, { events, ms: totalMs, ratio: totalMs / perBlock.ms, loadavg: os.loadavg()[0] });
      } finally {
        await live.drop();
      }
    }
    figure("peak-rss", { mib: Math.round(process.resourceUsage().maxRSS / 1024), events });
    line("young generation (V8 new space) at the end", `${youngGenerationMiB()} MiB`);
    printConditions("end");
  } catch (error) {
    process.stderr.write(`hardhat node exit code ${node.process.exitCode}; its stderr:\n${node.stderr()}\n`);
    throw error;
  } finally {
    await node.stop();
  }
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** Blocks per bare getLogs: the default target's worth of logs (5 blocks of 1,000). */
const rangedBlocks = Math.max(1, Math.floor(settings.getLogs.targetLogsPerRequest / PER_BLOCK));

/** eth_getLogs over ranges of the default target's worth of logs, nothing done with them. */
async function fetchRanged(client: PublicClient, token: Address, from: bigint, head: bigint) {
  const range = BigInt(rangedBlocks);
  let logs = 0;
  const ms = await time(async () => {
    for (let start = from; start <= head; start += range) {
      const end = start + range - 1n > head ? head : start + range - 1n;
      logs += (await client.getLogs({ address: token, fromBlock: start, toBlock: end })).length;
    }
  });
  return { logs, ms };
}

/** The calls realtime following makes for each block (header, then its logs by hash), nothing done with them. */
async function fetchPerBlock(client: PublicClient, token: Address, from: bigint, head: bigint) {
  let logs = 0;
  const ms = await time(async () => {
    for (let number = from; number <= head; number++) {
      const block = await client.getBlock({ blockNumber: number });
      logs += (await client.getLogs({ address: token, blockHash: block.hash })).length;
    }
  });
  return { logs, ms };
}

/** Stops the run when the ledger does not hold one journal entry per event. */
async function expectIndexed(database: Database, events: number): Promise<void> {
  const rows = await database.query<{ count: string | number }>(sql`SELECT count(*) AS count FROM journal_entries`);
  const count = Number(rows[0]?.count);
  if (count !== events) throw new Error(`the ledger holds ${count} journal entries for ${events} events`);
}

/** The realtime path alone: every block fetched, parent-checked and written in its own transaction. */
async function followBlockByBlock(
  database: Database,
  client: PublicClient,
  token: Address,
  startBlock: bigint,
): Promise<{ totalMs: number; writingMs: number }> {
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
  let writingMs = 0;
  const totalMs = await time(async () => {
    for await (const event of realtime.catchUp({ number: startBlock - 1n, hash: "0x" })) {
      if (event.type !== "block") throw new Error("the chain reorganised during the benchmark");
      const started = performance.now();
      await writer.commit({ blocks: [event.block], logs: event.logs, head: event.block });
      writingMs += performance.now() - started;
    }
  });
  return { totalMs, writingMs };
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
