/**
 * The relayer's database work per relay, alone: the statements a relay sent alone on an automined chain
 * makes (the benchmark of 2026-12-07, sixth, counted them in PGlite's thread: about 2.3 ms of it per relay,
 * a third of a relay's CPU), run without the chain, Redis or the workers, so that a change to a statement
 * or to the relayer's schema is measured apart from the machine's noise of the whole relay.
 *
 * Per relay, in groups of BENCH_GROUP (default 2, what group commit made of them in that run):
 * - the producer's record of the queued relay (`recordQueuedRelays`, one statement per group);
 * - the worker's take (`beginRelays`, one per group: recorded already, so it reads the relay and its transactions);
 * - the signed transaction's record (`insertSigned`, one per relay, as each key's send writes it);
 * - the relay's whole path in one write (signed → submitted → mined → confirmed, the carrier mined;
 *   the transition writer, one statement per group).
 * Baseline, same database, same run: as many statements that do nothing (`SELECT 1`) as the relays sent
 * (2.5 per relay in groups of 2), one after another; the figure is the relays' time as a multiple of it.
 * Time is wall time around each call, which on the embedded database is the thread's execution plus a message
 * each way; the CPU is this process's, every thread (PGlite's included; a PostgreSQL server's is not in it).
 *
 * BENCH_RELAYS relays (default 3,000) after a warm-up of 200; BENCH_ROUNDS rounds (default 3), each on a fresh
 * database, after one unreported round that warms the engine up. BENCH_SETUP: SQL statements (`;`-separated)
 * run after the migrations in every other round, for an A/B in one run (e.g.
 * `ALTER TABLE relayer_transactions SET (fillfactor = 70)`).
 *
 * Run: `tsx bench/relayer/relay-statements.ts` (BENCH_ENGINES=pglite,postgres; PGlite on disk as `npm start`
 * keeps it, bench/lib/pglite-storage.ts).
 */
import { sql } from "drizzle-orm";
import { keccak256, toHex } from "viem";

import type { Database } from "../../lib/db/database.ts";
import { runMigrations } from "../../lib/db/migrate.ts";
import { beginRelays } from "../../relayer/begin-relay.ts";
import { relayerMigrations } from "../../relayer/db/migration-set.ts";
import { insertSigned } from "../../relayer/nonce-manager.ts";
import { recordQueuedRelays, type QueuedRelay } from "../../relayer/record-transition.ts";
import { createTransitionWriter } from "../../relayer/transition-writer.ts";
import { createTestDatabase, type TestEngine } from "../../test/helpers/database.ts";
import { queuedTransferRelay } from "../../test/relayer/queued-relay.ts";
import { printConditions } from "../lib/conditions.ts";
import { usePgliteStorageOfUsers } from "../lib/pglite-storage.ts";

const RELAYS = Number(process.env.BENCH_RELAYS ?? 3_000);
const WARM_UP = 200;
const GROUP = Number(process.env.BENCH_GROUP ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ENGINES = (process.env.BENCH_ENGINES ?? "pglite").split(",") as TestEngine[];
const SETUP = (process.env.BENCH_SETUP ?? "").split(";").filter((statement) => statement.trim() !== "");
const RELAYER = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
const STEPS = ["queued record", "take", "signed record", "path"] as const;

/** A relay job as the API queues one, with a nonce of its own. */
function queuedRelay(n: number, runId: string): QueuedRelay {
  return queuedTransferRelay(`relay-${runId}-${n}`, "bench", keccak256(toHex(`${runId}-${n}`)));
}

/**
 * Runs `count` relays' statements from `first` on; adds each step's wall time (ms) to `spent`.
 * @returns how many statements it sent
 */
async function relayPaths(
  database: Database,
  first: number,
  count: number,
  runId: string,
  spent: number[],
): Promise<number> {
  let statements = 0;
  const transitions = createTransitionWriter(database);
  const timed = async (step: number, work: () => Promise<unknown>) => {
    const started = performance.now();
    await work();
    spent[step] = (spent[step] ?? 0) + performance.now() - started;
  };
  for (let n = first; n < first + count; n += GROUP) {
    const group = Array.from({ length: Math.min(GROUP, first + count - n) }, (_, i) => queuedRelay(n + i, runId));
    // One statement per group for the queued record, the take and the path (group commit), one per relay signed.
    statements += 3 + group.length;
    await timed(0, () => recordQueuedRelays(database, group));
    await timed(1, () => beginRelays(database, group));
    const hashes = group.map(({ job }) => keccak256(toHex(`tx-${job.relayId}`)));
    await timed(2, async () => {
      for (const [i, { job }] of group.entries())
        await insertSigned(database.db).execute({
          relayer: RELAYER,
          nonce: n + i,
          hash: hashes[i]!,
          // A signed EIP-1559 transferWithAuthorization is about 420 bytes.
          raw: `0x${"02".repeat(420)}`,
          relayIds: [job.relayId],
          maxFeePerGas: "2000000000",
          maxPriorityFeePerGas: "1000000000",
        });
    });
    await timed(3, () =>
      Promise.all(
        group.map(({ job }, i) =>
          transitions.record({
            relayId: job.relayId,
            statuses: ["signed", "submitted", "mined", "confirmed"],
            transactionHash: hashes[i]!,
            relayer: RELAYER,
            nonce: n + i,
            blockNumber: BigInt(n + i),
            blockHash: keccak256(toHex(`block-${n + i}`)),
            carrierStatus: "mined",
          }),
        ),
      ),
    );
  }
  return statements;
}

/** The baseline: `count` statements that do nothing (`SELECT 1`), one after another: what any statement costs here. */
async function trivialStatements(database: Database, count: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < count; i++) await database.query(sql`SELECT 1`);
  return performance.now() - started;
}

async function main() {
  printConditions("start");
  process.stdout.write(`PGlite's storage (BENCH_PGLITE_STORAGE): ${usePgliteStorageOfUsers()}\n`);
  for (const engine of ENGINES)
    // Round 0 warms the engine up (WebAssembly compiled to its optimising tier, the JIT), unreported:
    // without it the first round is the slowest, whichever side of an A/B it is.
    for (let round = 0; round <= ROUNDS; round++) {
      const withSetup = SETUP.length > 0 && round % 2 === 0;
      const database = await createTestDatabase(engine, "bench_relay_sql");
      try {
        await runMigrations(database, [relayerMigrations]);
        for (const statement of withSetup ? SETUP : []) await database.query(sql.raw(statement));
        const runId = `r${round}`;
        await relayPaths(database, 0, WARM_UP, runId, []);
        const spent: number[] = [];
        const started = performance.now();
        const cpuBefore = process.cpuUsage();
        const statements = await relayPaths(database, WARM_UP, RELAYS, runId, spent);
        const total = performance.now() - started;
        const cpu = process.cpuUsage(cpuBefore);
        const baseline = await trivialStatements(database, statements);
        const [{ count } = { count: 0 }] = await database.query<{ count: string | number }>(
          sql`SELECT count(*) AS count FROM relays WHERE status = 'confirmed'`,
        );
        if (Number(count) !== WARM_UP + RELAYS) throw new Error(`${count} relays confirmed of ${WARM_UP + RELAYS}`);
        if (round === 0) continue;
        const perRelay = (ms: number) => `${((ms * 1000) / RELAYS).toFixed(0)} µs`;
        process.stdout.write(
          `${engine}${SETUP.length > 0 ? (withSetup ? " [with BENCH_SETUP]" : " [as migrated]") : ""}, round ${round}: ` +
            `${perRelay(total)} per relay, ${(total / baseline).toFixed(2)}× as many statements that do nothing (${perRelay(baseline)}); ` +
            `CPU of this process ${perRelay((cpu.user + cpu.system) / 1000)} (${STEPS.map((step, i) => `${step} ${perRelay(spent[i] ?? 0)}`).join(", ")})\n`,
        );
      } finally {
        await database.drop();
      }
    }
  printConditions("end");
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
