/**
 * Auditor benchmark (issue 13's targets), three parts, each against a baseline measured in the same run:
 *
 * 1. Merkle sum tree of N liabilities (default 100,000; --full 1,000,000): the build (leaf ids,
 *    leaf hashes, sort, tree — what `buildReserves` does after its reads) and one inclusion proof
 *    verified offline (`verifyLiabilityProof` on the parsed JSON file: schema, leaf, path, root),
 *    p50 / p99 over 1,000 proofs. Baselines: one bare SHA-256 per node of the same tree, with Buffer
 *    digests (as earlier runs printed) and with string digests (as the tree hashes).
 * 2. verify-chain over N journal rows (default 100,000; --full 1,000,000): the rows are written by
 *    the real ledger writer (indexer/ledger/writer.ts, hash chain included) from synthetic decoded
 *    Transfer logs — the chain has no part in verify-chain, and a chain of a million real events
 *    would take the node longer than the whole benchmark. Baseline: the same pages of journal_entries
 *    and postings read one after the other (keyset) with nothing computed; verify-chain reads several
 *    block ranges at once, so it may take less than its baseline.
 * 3. Reconcile N funded accounts at a block (default 10,000; --full 100,000): a token on a fresh
 *    Hardhat EVM served over HTTP (as `npm run audit` reads RPC_URL) funds N distinct addresses
 *    with 250 real Transfer logs per transaction, the real indexer indexes them, then
 *    `reconcileLedger` runs at the head — balances (batched Multicall3 balanceOf, 500 per eth_call,
 *    4 in flight) and, separately, with the completeness check over the whole range. Baseline: the
 *    bare batched balanceOf reads of the same N addresses at the same block through the same
 *    reader, nothing compared. "speed ratio" = baseline time / reconcile time (target ≥ 0.5).
 *
 * Database: PostgreSQL at TEST_DATABASE_URL (default 127.0.0.1:5432/test), a fresh schema dropped
 * at the end; BENCH_AUDIT_ENGINE=pglite for the embedded one. Sizes: BENCH_AUDIT_LIABILITIES,
 * BENCH_AUDIT_JOURNAL_ROWS, BENCH_AUDIT_ACCOUNTS override either preset; BENCH_AUDIT_PARTS=merkle,chain,reconcile
 * picks parts. Prints figures; asserts nothing about speed, but stops when an audit is not clean
 * (a fast wrong figure is worthless).
 *
 * Run: `npm run bench:audit` (small) or `npm run bench:audit -- --full` (the issue's sizes).
 */
import { hash } from "node:crypto";

import { network } from "hardhat";
import {
  createPublicClient,
  createWalletClient,
  custom,
  http,
  padHex,
  type Abi,
  type Address,
  type EIP1193Provider,
  type Hash,
  type PublicClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { reconcileLedger, verifyJournalChain } from "../../auditor/index.ts";
import { createChainReader } from "../../auditor/reconcile/chain-reads.ts";
import { liabilityProof, verifyLiabilityProof } from "../../auditor/reserves/liability-proof.ts";
import { buildLiabilitiesTree } from "../../auditor/reserves/reserves-report.ts";
import { createLedgerWriter } from "../../indexer/ledger/writer.ts";
import { startIndexer } from "../../indexer/index.ts";
import { stablecoinAbi } from "../../lib/chain/abis/stablecoin.ts";
import { stablerailChain } from "../../lib/chain/chain.ts";
import { sql, type Database } from "../../lib/db/database.ts";
import { runMigrations } from "../../lib/db/migrate.ts";
import { ledgerMigrations } from "../../lib/ledger/migration-set.ts";
import type { DecodedLog } from "../../lib/ledger/types.ts";
import { createLogger } from "../../lib/logging/logger.ts";
import { HARDHAT_PRIVATE_KEYS } from "../../test/helpers/chain.ts";
import { createTestDatabase, type TestEngine } from "../../test/helpers/database.ts";
import { serveJsonRpc } from "../../test/helpers/json-rpc-server.ts";
import { compileTestToken, deployTestToken } from "../../test/indexer/fixtures/test-token.ts";
import { percentile, printConditions } from "../lib/conditions.ts";

const FULL = process.argv.includes("--full") || process.env.BENCH_AUDIT_FULL === "1";
const size = (variable: string, small: number, full: number) => Number(process.env[variable] ?? (FULL ? full : small));
const LIABILITIES = size("BENCH_AUDIT_LIABILITIES", 100_000, 1_000_000);
const JOURNAL_ROWS = size("BENCH_AUDIT_JOURNAL_ROWS", 100_000, 1_000_000);
const ACCOUNTS = size("BENCH_AUDIT_ACCOUNTS", 10_000, 100_000);
const ENGINE = (process.env.BENCH_AUDIT_ENGINE ?? "postgres") as TestEngine;
const PARTS = new Set((process.env.BENCH_AUDIT_PARTS ?? "merkle,chain,reconcile").split(","));
const PER_TX = 250;
const CHAIN_ID = 31337;

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const line = (label: string, value: string) => process.stdout.write(`${label.padEnd(58)} ${value}\n`);

async function time<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

async function main() {
  printConditions("start");
  process.stdout.write(
    `sizes: ${fmt(LIABILITIES)} liabilities, ${fmt(JOURNAL_ROWS)} journal rows, ${fmt(ACCOUNTS)} accounts; database ${ENGINE}${FULL ? " (--full)" : ""}\n`,
  );
  if (PARTS.has("merkle")) await benchMerkle();
  if (PARTS.has("chain")) await benchVerifyChain();
  if (PARTS.has("reconcile")) await benchReconcile();
  printConditions("end");
}

/** Part 1: the liabilities tree and offline proof checks. */
async function benchMerkle() {
  process.stdout.write(`\n## Merkle sum tree, ${fmt(LIABILITIES)} liabilities\n`);
  const block = 1_000n;
  const balances = Array.from(
    { length: LIABILITIES },
    (_, i) => [`user-${i}`, BigInt(1 + ((i * 7_919) % 1_000_000_007))] as [string, bigint],
  );
  // What buildReserves does once the balances are read: leaf ids, sort, leaf hashes, the tree.
  const build = await time(() => buildLiabilitiesTree(CHAIN_ID, block, balances));
  let { leaves, tree } = build.value;
  // Baseline: one bare SHA-256 per node of the same tree (leaf inputs 65 bytes, inner 129), nothing else.
  const nodes = 2 * LIABILITIES - 1;
  const leafInput = Buffer.alloc(65);
  const nodeInput = Buffer.alloc(129);
  const bare = await time(() => {
    for (let i = 0; i < LIABILITIES; i++) hash("sha256", leafInput, "buffer");
    for (let i = 0; i < nodes - LIABILITIES; i++) hash("sha256", nodeInput, "buffer");
  });
  // The same bare hashes with latin1 string output, as the tree hashes (no Buffer per digest): the floor
  // of node:crypto one-shot hashing, which the Buffer baseline above (kept for comparison with earlier runs) is not.
  const bareStrings = await time(() => {
    for (let i = 0; i < LIABILITIES; i++) hash("sha256", leafInput, "binary");
    for (let i = 0; i < nodes - LIABILITIES; i++) hash("sha256", nodeInput, "binary");
  });
  line("build (leaf ids, sort, leaf hashes, tree)", `${seconds(build.ms)} (target < 10 s)`);
  line("  bare SHA-256 of the same node count", `${seconds(bare.ms)} — build is ${(build.ms / bare.ms).toFixed(2)}×`);
  line(
    "  the same, digests as strings (no Buffer each)",
    `${seconds(bareStrings.ms)} — build is ${(build.ms / bareStrings.ms).toFixed(2)}×`,
  );

  const root = `0x${tree.root.hash.toString("hex")}`;
  const files = Array.from({ length: 1_000 }, (_, k) => {
    const index = (k * 104_729) % LIABILITIES;
    return JSON.stringify(
      liabilityProof({
        chainId: CHAIN_ID,
        block,
        token: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
        root: tree.root,
        journalHead: { seq: 1n, hash: `0x${"11".repeat(32)}` },
        userId: leaves[index]!.userId,
        index,
        balance: leaves[index]!.balance,
        steps: tree.proof(index),
      }),
    );
  });
  const steps = tree.proof(0).length;
  // A user verifies in a process of their own: drop the million-node tree first (with --expose-gc,
  // collect it), so its garbage collection is not counted against one proof.
  build.value = undefined as never;
  leaves = undefined as never;
  tree = undefined as never;
  (globalThis as { gc?: () => void }).gc?.();
  const samples: number[] = [];
  let valid = 0;
  for (const text of files) {
    // What `npm run audit -- verify-proof proof.json` does once the file is read: parse and verify.
    const start = performance.now();
    const result = verifyLiabilityProof(JSON.parse(text) as unknown, root);
    samples.push(performance.now() - start);
    if (result.ok) valid++;
  }
  if (valid !== 1_000) throw new Error(`${1_000 - valid} of 1,000 proofs did not verify`);
  samples.sort((a, b) => a - b);
  line(
    `one proof verified offline (${steps} steps), p50 / p99`,
    `${percentile(samples, 0.5).toFixed(3)} / ${percentile(samples, 0.99).toFixed(3)} ms (target < 5 ms)`,
  );
}

/** Part 2: verify-chain over rows the real writer wrote. */
async function benchVerifyChain() {
  process.stdout.write(`\n## verify-chain, ${fmt(JOURNAL_ROWS)} journal rows (${ENGINE})\n`);
  const database = await createTestDatabase(ENGINE, "bench_audit_chain");
  try {
    await runMigrations(database, [ledgerMigrations]);
    const writer = createLedgerWriter({ database, chainId: CHAIN_ID, context: {} });
    const genesis = padHex("0x01", { size: 32 }) as Hash;
    await writer.resetChain(genesis, 1n);
    const token = padHex("0x7070", { size: 20 }) as Address;
    const holders = Array.from(
      { length: 1_000 },
      (_, i) => padHex(`0x${(i + 1).toString(16)}`, { size: 20 }) as Address,
    );
    const PER_BLOCK = 100;
    const BATCH = 5_000;
    const written = await time(async () => {
      let row = 0;
      while (row < JOURNAL_ROWS) {
        const logs: DecodedLog[] = [];
        const blocks = [];
        for (let n = 0; n < BATCH && row < JOURNAL_ROWS; n += PER_BLOCK) {
          const number = BigInt(row / PER_BLOCK + 1);
          const hash = padHex(`0x${number.toString(16)}b`, { size: 32 }) as Hash;
          const header = {
            number,
            hash,
            parentHash: padHex(`0x${(number - 1n).toString(16)}b`, { size: 32 }) as Hash,
            timestamp: 1_700_000_000n + number,
          };
          blocks.push(header);
          for (let logIndex = 0; logIndex < PER_BLOCK && row < JOURNAL_ROWS; logIndex++, row++) {
            logs.push({
              chainId: CHAIN_ID,
              blockNumber: number,
              blockHash: hash,
              blockTimestamp: header.timestamp,
              transactionHash: padHex(`0x${row.toString(16)}`, { size: 32 }) as Hash,
              logIndex,
              address: token,
              contractName: "Stablecoin",
              eventName: "Transfer",
              // Row 0 of each block mints to a holder; the rest move money between holders.
              args:
                logIndex === 0
                  ? { from: padHex("0x00", { size: 20 }), to: holders[row % 1_000]!, value: 10n ** 12n }
                  : { from: holders[row % 1_000]!, to: holders[(row * 7) % 1_000]!, value: BigInt(1 + (row % 997)) },
            });
          }
        }
        await writer.commit({ blocks, logs, head: blocks[blocks.length - 1]! });
      }
    });
    line(
      "written by the ledger writer (not measured against a target)",
      `${seconds(written.ms)}, ${fmt(JOURNAL_ROWS / (written.ms / 1000))} rows/s`,
    );

    // Statistics, as autovacuum would gather on a database in service: right after a bulk load the
    // planner still believes the tables tiny, and each keyset page becomes a scan of every row after it.
    await database.query(sql`ANALYZE journal_entries`);
    await database.query(sql`ANALYZE postings`);
    const [stored] = await database.query<{ n: string }>(sql`SELECT count(*)::text AS n FROM journal_entries`);
    if (Number(stored!.n) !== JOURNAL_ROWS) throw new Error(`the writer stored ${stored!.n} of ${JOURNAL_ROWS} rows`);
    const bare = await time(() => readJournalBare(database));
    if (bare.value !== JOURNAL_ROWS) throw new Error(`bare read saw ${bare.value} rows`);
    const verified = await time(() => verifyJournalChain(database, { chainId: CHAIN_ID }));
    if (!verified.value.ok || verified.value.checked.entries !== JOURNAL_ROWS)
      throw new Error(`verify-chain: ok=${verified.value.ok}, ${verified.value.checked.entries} entries`);
    line(
      "verify-chain",
      `${seconds(verified.ms)}, ${fmt(JOURNAL_ROWS / (verified.ms / 1000))} rows/s (target < 30 s at 1M)`,
    );
    line(
      "  bare paged read of the same rows",
      `${seconds(bare.ms)} — verify-chain takes ${(verified.ms / bare.ms).toFixed(2)}× its time`,
    );
  } finally {
    await database.drop();
  }
}

/** The pages verify-chain reads, with nothing computed: its I/O floor. */
async function readJournalBare(database: Database): Promise<number> {
  let cursor: { block: bigint; log: number } | undefined;
  let rows = 0;
  for (;;) {
    const entries = await database.query<{ block_number: string; log_index: number }>(sql`
      SELECT block_number::text AS block_number, log_index, block_hash, block_timestamp::text AS block_timestamp,
        transaction_hash, token, kind, reference, event, seq::text AS seq, entry_hash, chain_hash
      FROM journal_entries WHERE chain_id = ${CHAIN_ID}
        ${cursor ? sql`AND (block_number, log_index) > (${cursor.block}, ${cursor.log})` : sql``}
      ORDER BY journal_entries.block_number, journal_entries.log_index LIMIT 5000`);
    if (entries.length === 0) return rows;
    const end = entries[entries.length - 1]!;
    await database.query(sql`
      SELECT block_number::text AS block_number, log_index, leg, account, counterparty, token, amount::text AS amount,
        balance_after::text AS balance_after, kind, block_timestamp::text AS block_timestamp
      FROM postings WHERE chain_id = ${CHAIN_ID}
        ${cursor ? sql`AND (block_number, log_index) > (${cursor.block}, ${cursor.log})` : sql``}
        AND (block_number, log_index) <= (${BigInt(end.block_number)}, ${end.log_index})
      ORDER BY postings.block_number, postings.log_index, postings.leg`);
    rows += entries.length;
    cursor = { block: BigInt(end.block_number), log: end.log_index };
    if (entries.length < 5000) return rows;
  }
}

/** Part 3: reconcile N funded accounts against the chain, and the bare reads of their balances. */
async function benchReconcile() {
  process.stdout.write(`\n## reconcile, ${fmt(ACCOUNTS)} funded accounts (${ENGINE}, chain over HTTP)\n`);
  const connection = await network.create();
  const provider = connection.provider as unknown as EIP1193Provider;
  const server = await serveJsonRpc(provider);
  const database = await createTestDatabase(ENGINE, "bench_audit_reconcile");
  try {
    const chain = stablerailChain(CHAIN_ID, server.url);
    // Writes go in-process (the workload is not measured); every audited read goes over HTTP.
    const local = createPublicClient({ chain, transport: custom(provider) }) as PublicClient;
    const client = createPublicClient({ chain, transport: http(server.url) }) as PublicClient;
    const account = privateKeyToAccount(HARDHAT_PRIVATE_KEYS[0]);
    const wallet = createWalletClient({ account, chain, transport: custom(provider) });
    const { abi } = compileTestToken();
    const token = await deployTestToken(local, wallet);
    await local.waitForTransactionReceipt({
      hash: await wallet.writeContract({
        address: token.address,
        abi: abi as Abi,
        functionName: "mint",
        args: [account.address, 10n ** 30n],
      }),
    });
    const holders = Array.from(
      { length: ACCOUNTS },
      (_, i) => padHex(`0x${(0x1_0000 + i).toString(16)}`, { size: 20 }) as Address,
    );
    const funding = await time(async () => {
      let last: Hash | undefined;
      for (let i = 0; i < ACCOUNTS; i += PER_TX) {
        const to = holders.slice(i, i + PER_TX);
        last = await wallet.writeContract({
          address: token.address,
          abi: abi as Abi,
          functionName: "transferMany",
          args: [to, to.map((_, k) => BigInt(1_000 + i + k))],
          gas: 15_000_000n,
        });
      }
      await local.waitForTransactionReceipt({ hash: last! });
    });
    const head = await local.getBlockNumber();
    line(
      "workload (not measured against a target)",
      `${fmt(ACCOUNTS)} accounts funded in ${head - token.blockNumber} blocks, ${seconds(funding.ms)}`,
    );

    await runMigrations(database, [ledgerMigrations]);
    const indexer = await startIndexer({
      common: { logger: createLogger({ name: "bench", level: "warn", format: "json" }) },
      database,
      client: local,
      chainId: CHAIN_ID,
      contracts: { Stablecoin: token.address },
      startBlock: token.blockNumber,
      settings: {
        confirmations: 0,
        pollIntervalMs: 1_000,
        getLogs: { initialRange: 10, maxRange: 10_000, targetLogsPerRequest: 10_000 },
        blockLogLevel: "trace" as const,
        standbyRetryMs: 1_000,
      },
      follow: false,
    });
    const indexed = await time(() => indexer.catchUp());
    await indexer.stop();
    line("indexed (not measured against a target)", seconds(indexed.ms));

    const reader = createChainReader(client, { batchSize: 500, concurrency: 4 });
    const calls = holders.map((holder) => ({
      address: token.address,
      abi: stablecoinAbi as Abi,
      functionName: "balanceOf",
      args: [holder],
    }));
    await reader.readAll(calls, head); // warm the node's state for this block, as the reconcile will find it
    const bare = await time(() => reader.readAll(calls, head));
    const failed = bare.value.find((r) => r.status !== "success");
    if (failed) throw new Error(`a bare balanceOf failed: ${JSON.stringify(failed)}`);
    const reconcile = (completeness: boolean) =>
      time(() =>
        reconcileLedger(database, client, {
          chainId: CHAIN_ID,
          contracts: { token: token.address },
          block: head,
          fromBlock: token.blockNumber,
          completeness,
          batchSize: 500,
          concurrency: 4,
        }),
      );
    const balances = await reconcile(false);
    const full = await reconcile(true);
    for (const run of [balances, full])
      if (!run.value.ok) throw new Error(`reconcile found ${run.value.mismatches.length} mismatches`);
    const holdersChecked = balances.value.totals.holders;
    line("bare batched balanceOf reads", `${seconds(bare.ms)}, ${fmt(ACCOUNTS / (bare.ms / 1000))} accounts/s`);
    line(
      `reconcile at block ${head}: balances (${fmt(holdersChecked)} holders)`,
      `${seconds(balances.ms)}, ${fmt(holdersChecked / (balances.ms / 1000))} accounts/s — speed ratio ${(bare.ms / balances.ms).toFixed(2)}× (target ≥ 0.5×, < 2 min)`,
    );
    line(
      `  with completeness over ${head - token.blockNumber + 1n} blocks (${fmt(full.value.totals.logs)} logs)`,
      `${seconds(full.ms)}, ${fmt(holdersChecked / (full.ms / 1000))} accounts/s — speed ratio ${(bare.ms / full.ms).toFixed(2)}×`,
    );
  } finally {
    await database.drop();
    await server.close();
    await connection.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  },
);
