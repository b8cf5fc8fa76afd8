/**
 * Writer profile (issue 17): the ledger writer alone, without a node — synthetic Transfer logs
 * (BENCH_EVENTS, default 20,000; BENCH_EVENTS_PER_BLOCK 1,000; batches of BENCH_BATCH 5,000
 * events, the default target's worth) committed to PGlite and to PostgreSQL, with the time per
 * commit. On PostgreSQL, BENCH_EXPLAIN=1 loads auto_explain in the writer's sessions and prints
 * each statement's plan with its actual times (ANALYZE, nested statements: the CTE parts), which
 * is where the time of a batch goes inside the server. Prints figures; asserts only the count.
 *
 * The current writer also runs as a cold start does (indexer/ledger/read-indexes.ts): the read-only
 * indexes dropped before the first commit and built after the last, the build counted in its time
 * and CPU ("current, read indexes deferred").
 *
 * Run: `tsx bench/indexer/profile-writer.ts` (BENCH_ENGINES=postgres to skip PGlite).
 */
import { readFileSync } from "node:fs";
import os from "node:os";

import { sql } from "drizzle-orm";
import pg from "pg";
import { getAddress, padHex, type Address, type Hash } from "viem";

import type { Database } from "../../lib/db/database.ts";
import { runMigrations } from "../../lib/db/migrate.ts";
import { ledgerMigrations } from "../../lib/ledger/migration-set.ts";
import type { DecodedLog } from "../../lib/ledger/types.ts";
import { createReadIndexes } from "../../indexer/ledger/read-indexes.ts";
import { createLedgerWriter, type LedgerBatch } from "../../indexer/ledger/writer.ts";
import { createLogger } from "../../lib/logging/logger.ts";
import { createTestDatabase, type TestEngine } from "../../test/helpers/database.ts";
import { usePgliteStorageOfUsers } from "../lib/pglite-storage.ts";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const PER_BLOCK = Number(process.env.BENCH_EVENTS_PER_BLOCK ?? 1_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 5_000);
const ENGINES = (process.env.BENCH_ENGINES ?? "pglite,postgres").split(",") as TestEngine[];
const EXPLAIN = process.env.BENCH_EXPLAIN === "1";
/** Other writer modules to run beside the current one, alternately (a before/after in one run, under the same load). */
const OTHER_WRITERS = (process.env.BENCH_OTHER_WRITERS ?? "").split(",").filter(Boolean);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);

const token = getAddress(padHex("0x7070", { size: 20 }));
const sender = getAddress(padHex("0x5e5e", { size: 20 }));
const hash = (n: number, tag: number) =>
  padHex(`0x${tag.toString(16)}${n.toString(16).padStart(8, "0")}`, { size: 32 }) as Hash;

/**
 * CPU time (ms) of this process plus, on PostgreSQL, of the server sessions serving this schema:
 * unlike wall time it does not swing with what the other engineers run on the same 2 cores.
 */
async function cpuMs(database: Database, engine: TestEngine) {
  const own = process.cpuUsage();
  let server = 0;
  if (engine === "postgres") {
    const rows = await database.query<{ pid: number }>(
      sql`SELECT pid FROM pg_stat_activity WHERE application_name = ${`stablerail:${database.schema}`}`,
    );
    const tick = 1000 / 100; // USER_HZ
    for (const { pid } of rows) {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      server += (Number(fields[11]) + Number(fields[12])) * tick;
    }
  }
  return { own: (own.user + own.system) / 1000, server };
}

function batches(): LedgerBatch[] {
  const out: LedgerBatch[] = [];
  const blocks = Math.ceil(EVENTS / PER_BLOCK);
  let current: LedgerBatch | undefined;
  let made = 0;
  for (let b = 1; b <= blocks; b++) {
    const header = {
      number: BigInt(b),
      hash: hash(b, 1),
      parentHash: hash(b - 1, 1),
      timestamp: BigInt(1_700_000_000 + b),
    };
    current ??= { blocks: [], logs: [], head: header };
    current.blocks.push(header);
    current.head = header;
    for (let i = 0; i < PER_BLOCK && made < EVENTS; i++, made++) {
      const to = made === 0 ? sender : getAddress(padHex(`0x${((made % 1000) + 1).toString(16)}`, { size: 20 }));
      const log: DecodedLog = {
        chainId: 31337,
        blockNumber: header.number,
        blockHash: header.hash,
        blockTimestamp: header.timestamp,
        transactionHash: hash(made >> 8, 2),
        logIndex: i,
        address: token,
        contractName: "Stablecoin",
        eventName: "Transfer",
        args:
          made === 0
            ? { from: padHex("0x0", { size: 20 }) as Address, to, value: 10n ** 30n }
            : { from: sender, to, value: BigInt(made) },
      };
      current.logs.push(log);
    }
    if (current.logs.length >= BATCH || b === blocks) {
      out.push(current);
      current = undefined;
    }
  }
  return out;
}

async function main() {
  process.stdout.write(`PGlite's storage (BENCH_PGLITE_STORAGE): ${usePgliteStorageOfUsers()}\n`);
  process.stdout.write(
    `loadavg ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" / ")}\n`,
  );
  if (EXPLAIN) {
    // Profiling only: every new session of this process loads auto_explain and reports plans as notices.
    const connect = pg.Client.prototype.connect;
    pg.Client.prototype.connect = async function (this: pg.Client, ...args: never[]) {
      const result = await (connect as unknown as (...a: never[]) => Promise<void>).apply(this, args);
      this.on("notice", (notice) => {
        if (String(notice.message).includes("Query Text")) process.stdout.write(`${notice.message}\n`);
      });
      await this.query(
        "LOAD 'auto_explain'; SET auto_explain.log_min_duration = 20; SET auto_explain.log_analyze = on; SET auto_explain.log_nested_statements = on; SET auto_explain.log_level = notice; SET auto_explain.log_buffers = on",
      );
      return result;
    } as unknown as typeof connect;
  }
  const work = batches();
  const writers: [string, typeof createLedgerWriter][] = [["current", createLedgerWriter]];
  for (const path of OTHER_WRITERS)
    writers.push([
      path,
      ((await import(path)) as { createLedgerWriter: typeof createLedgerWriter }).createLedgerWriter,
    ]);
  for (let round = 0; round < ROUNDS; round++)
    for (const engine of ENGINES)
      for (const [name, createWriter, deferred] of writers.flatMap(([name, create]) =>
        (name === "current" ? [false, true] : [false]).map((defer) => [name, create, defer] as const),
      )) {
        const database = await createTestDatabase(engine, "bench_writer");
        try {
          await runMigrations(database, [ledgerMigrations]);
          const writer = createWriter({ database, chainId: 31337, context: {} });
          await writer.resetChain(hash(0, 1), 1n);
          const times: number[] = [];
          // Opens the pool's sessions first, so their CPU counters exist before the clock starts.
          await Promise.all([1, 2, 3, 4, 5].map(() => database.query(sql`SELECT 1`)));
          const cpuBefore = await cpuMs(database, engine);
          const started = performance.now();
          const readIndexes = createReadIndexes({
            database,
            common: { logger: createLogger({ name: "bench", level: "warn", format: "json" }) },
          });
          if (deferred && !(await readIndexes.deferIfEmpty())) throw new Error("read indexes not deferred");
          for (const batch of work) {
            const t = performance.now();
            await writer.commit(batch);
            times.push(performance.now() - t);
          }
          const built = performance.now();
          if (deferred) await readIndexes.rebuild();
          const buildMs = performance.now() - built;
          const total = performance.now() - started;
          const cpuAfter = await cpuMs(database, engine);
          const js = cpuAfter.own - cpuBefore.own;
          const server = cpuAfter.server - cpuBefore.server;
          const [row] = await database.query<{ count: string | number }>(
            sql`SELECT count(*) AS count FROM journal_entries`,
          );
          if (Number(row?.count) !== EVENTS) throw new Error(`${row?.count} entries for ${EVENTS} events`);
          process.stdout.write(
            `${engine} [${name}${deferred ? `, read indexes deferred (build ${buildMs.toFixed(0)} ms)` : ""}]: ${EVENTS} events in ${work.length} commits: ${(total / 1000).toFixed(2)} s, ${((total * 1000) / EVENTS).toFixed(1)} µs/event wall; CPU ${((js * 1000) / EVENTS).toFixed(1)} µs/event here + ${((server * 1000) / EVENTS).toFixed(1)} µs/event in the server; commits ms ${times.map((m) => m.toFixed(0)).join(" ")}\n`,
          );
        } finally {
          await database.drop();
        }
      }
  process.stdout.write(
    `loadavg ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" / ")}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`profile failed: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
