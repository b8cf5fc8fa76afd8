/**
 * Indexer vs Ponder (issue 17): the same Transfer events on the same hardhat node, indexed into the
 * same PostgreSQL server by our indexer exactly as `npm run indexer` runs it (`tsx` with INDEXER_NODE_FLAGS, `indexer/main.ts`,
 * no INDEXER_* variable: the defaults a user gets) and by `ponder start` of bench/ponder (Ponder
 * 0.16, its defaults; a handler that writes a row per transfer and a balance per holder). Each side
 * gets a fresh database of its own on that server, dropped at the end.
 *
 * Each side is timed from its process's spawn to caught up: ours when its checkpoint
 * (`ledger_chains.head_number`) reaches the head and the read indexes a cold start defers are
 * built (`ledger_deferred_indexes` empty) — the ledger as the API reads it; Ponder when `/status`
 * reports the head and `/ready` answers 200. Ponder's `/ready` comes once the blocks older than its
 * finality depth (30 for an unknown chain id such as 31337) are indexed; it indexes the newer ones
 * block by block in its realtime sync after that (BENCH_TAIL_BLOCKS=30 mines 30 empty blocks after
 * the workload: every event is then in its backfill, the empty tail in its realtime sync). Ours at its checkpoint, before
 * the read indexes, is printed too ("to the head"). Peak RSS is the high-water mark
 * (/proc VmHWM) of each side's largest process (ours: the node process under the tsx wrapper).
 *
 * Correctness, checked before any figure counts: one journal entry per event in our ledger, one
 * transfers row per event in Ponder's, and the same balance for every holder on both sides (our
 * `issuance:<token>` account is Ponder's zero address: both go negative by the minted supply).
 *
 * Workload: bench/indexer/transfer-workload.ts, 100,000 events (BENCH_EVENTS) at 1,000 per block
 * (BENCH_EVENTS_PER_BLOCK). BENCH_ROUNDS rounds (default 1), the order of the sides alternating
 * (BENCH_ORDER, default "ours,ponder"). PostgreSQL at BENCH_POSTGRES_URL (default
 * postgres://postgres@127.0.0.1:5432/postgres, the maintenance database the per-side databases are
 * created from). bench/ponder's dependencies are installed (`npm ci --prefix bench/ponder`) when absent.
 *
 * Run: `npm run bench:ponder` (or `tsx bench/indexer/vs-ponder.ts`). Prints figures and BENCH_FIGURE
 * lines; asserts nothing about speed.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";

import pg from "pg";
import { getAddress, padHex, zeroAddress, type Address } from "viem";

import { writeDeployment } from "../../lib/chain/deployments.ts";
import { freePort, startHardhatNode, type HardhatNode } from "../../test/indexer/helpers/processes.ts";
import { INDEXER_NODE_FLAGS } from "../../lib/process/node-flags.ts";
import { printConditions } from "../lib/conditions.ts";
import { buildTransferChain, type TransferChain } from "./transfer-workload.ts";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const PER_BLOCK = Number(process.env.BENCH_EVENTS_PER_BLOCK ?? 1_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
/**
 * Empty blocks mined after the workload (default none). Ponder indexes the newest 30 blocks of an
 * unknown chain (its finality depth for 31337) block by block after /ready; 30 here puts every
 * event in its backfill (and only empty blocks in its realtime sync).
 */
const TAIL_BLOCKS = Number(process.env.BENCH_TAIL_BLOCKS ?? 0);
const ORDER = (process.env.BENCH_ORDER ?? "ours,ponder").split(",") as Side[];
/** BENCH_VERBOSE=1 prints each side's own output (the end of it) after its run. */
const VERBOSE = process.env.BENCH_VERBOSE === "1";
const ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const PONDER_DIR = join(process.cwd(), "bench/ponder");
const PONDER_SCHEMA = "bench";
/** How often each side's progress (and its processes' memory) is read. */
const POLL_MS = 50;
/** A side not caught up after this long is stopped and the run fails. */
const TIMEOUT_MS = 10 * 60_000;

type Side = "ours" | "ponder";
type Balances = Map<Address, bigint>;
type SideResult = {
  /** Spawn to caught up (ours: checkpoint at the head and read indexes built; Ponder: /status at the head and /ready). */
  readyMs: number;
  /** Spawn to the checkpoint at the head (ours) or /status at the head (Ponder). */
  headMs: number;
  peakRssMiB: number;
  balances: Balances;
};

const line = (label: string, value: string) => process.stdout.write(`${label.padEnd(44)} ${value}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const rate = (ms: number, events: number) => `${Math.round(events / (ms / 1000)).toLocaleString("en-US")} events/s`;
const figure = (name: string, value: Record<string, unknown>) =>
  process.stdout.write(`BENCH_FIGURE ${JSON.stringify({ bench: "vs-ponder", name, ...value })}\n`);

async function main() {
  printConditions("start");
  ensurePonderInstalled();
  const node = await startHardhatNode();
  try {
    const chain = await buildTransferChain(node, { events: EVENTS, perBlock: PER_BLOCK });
    if (TAIL_BLOCKS > 0) {
      // One evm_mine each: on blocks made by one hardhat_mine, Ponder's realtime sync stalled (its
      // reorg check asked for a block by hash 0x00…00 and never caught up).
      for (let i = 0; i < TAIL_BLOCKS; i++) await node.client.request({ method: "evm_mine" as never });
      chain.head = await node.client.getBlockNumber({ cacheTime: 0 });
    }
    line(
      "workload",
      `${chain.events.toLocaleString("en-US")} Transfer events in ${chain.head - chain.token.blockNumber + 1n - BigInt(TAIL_BLOCKS)} blocks ` +
        `(generated in ${seconds(chain.generationMs)})${TAIL_BLOCKS > 0 ? `, then ${TAIL_BLOCKS} empty blocks` : ""}`,
    );
    // One pass over every log first, so whichever side runs first does not pay the node's cold caches.
    let warm = 0;
    for (let from = chain.token.blockNumber; from <= chain.head; from += 5n) {
      const to = from + 4n < chain.head ? from + 4n : chain.head;
      warm += (await node.client.getLogs({ address: chain.token.address, fromBlock: from, toBlock: to })).length;
    }
    if (warm !== chain.events) throw new Error(`the node returned ${warm} of ${chain.events} logs`);

    for (let round = 1; round <= ROUNDS; round++) {
      const order = round % 2 === 1 ? ORDER : [...ORDER].reverse();
      const results: Partial<Record<Side, SideResult>> = {};
      for (const side of order) {
        results[side] = side === "ours" ? await runOurs(node, chain) : await runPonder(node, chain);
        const result = results[side];
        line(
          `round ${round}, ${side === "ours" ? "our indexer" : "Ponder"}`,
          `${seconds(result.readyMs)} to caught up (${rate(result.readyMs, chain.events)}), ` +
            `${seconds(result.headMs)} to the head; peak RSS ${result.peakRssMiB} MiB; loadavg ${loadavg()}`,
        );
        figure(side, { round, events: chain.events, ...result, balances: undefined, loadavg: os.loadavg()[0] });
      }
      const ours = results.ours!;
      const ponder = results.ponder!;
      expectSameBalances(ours.balances, ponder.balances);
      line(`round ${round}, ours / Ponder`, `${(ours.readyMs / ponder.readyMs).toFixed(2)}× the time (target ≤ 0.5×)`);
      line(`  at the head, ours / Ponder`, `${(ours.headMs / ponder.headMs).toFixed(2)}×`);
      line(`  balances`, `${ours.balances.size} holders, the same on both sides`);
      figure("ratio", { round, events: chain.events, ratio: ours.readyMs / ponder.readyMs });
    }
    printConditions("end");
  } catch (error) {
    process.stderr.write(`hardhat node exit code ${node.process.exitCode}; its stderr:\n${node.stderr()}\n`);
    throw error;
  } finally {
    await node.stop();
  }
}

/** Installs bench/ponder's own dependencies when they are missing (the root package does not). */
function ensurePonderInstalled(): void {
  if (existsSync(join(PONDER_DIR, "node_modules/ponder/package.json"))) return;
  process.stdout.write(`installing ${PONDER_DIR}'s dependencies (npm ci)\n`);
  const run = spawnSync("npm", ["ci", "--prefix", PONDER_DIR, "--no-audit", "--no-fund"], { stdio: "inherit" });
  if (run.status !== 0) throw new Error(`npm ci --prefix ${PONDER_DIR} exited with ${run.status}`);
}

/** Our indexer as `npm run indexer` runs it, into a fresh database, until its ledger is at the head. */
async function runOurs(node: HardhatNode, chain: TransferChain): Promise<SideResult> {
  const deploymentsDir = await mkdtemp(join(os.tmpdir(), "vs-ponder-deployments-"));
  const unused = (n: number) => padHex(`0x${n.toString(16)}`, { size: 20 }) as Address;
  const startBlock = Number(chain.token.blockNumber);
  await writeDeployment(deploymentsDir, {
    chainId: 31337,
    genesisHash: (await node.client.getBlock({ blockNumber: 0n })).hash!,
    startBlock,
    deployedAt: new Date().toISOString(),
    contracts: {
      Stablecoin: { address: chain.token.address, blockNumber: startBlock },
      StablerailForwarder: { address: unused(0xf0), blockNumber: 0 },
      PaymentEscrow: { address: unused(0xe5), blockNumber: 0 },
      Settlement: { address: unused(0x5e), blockNumber: 0 },
    },
  });
  const database = await createDatabase("ours");
  try {
    const child = spawnSide(
      join(process.cwd(), "node_modules/.bin/tsx"),
      [...INDEXER_NODE_FLAGS, "indexer/main.ts"],
      process.cwd(),
      {
        RPC_URL: node.url,
        CHAIN_ID: "31337",
        DEPLOYMENTS_DIR: deploymentsDir,
        DATABASE_URL: database.url,
      },
    );
    const progress = async () => {
      const head = await database.client
        .query<{ head: string }>("SELECT head_number AS head FROM stablerail.ledger_chains WHERE chain_id = 31337")
        .then(
          (result) => result.rows[0]?.head,
          () => undefined,
        );
      if (head === undefined || BigInt(head) < chain.head) return { atHead: false, ready: false };
      const deferred = await database.client.query<{ n: string }>(
        "SELECT count(*) AS n FROM stablerail.ledger_deferred_indexes",
      );
      return { atHead: true, ready: Number(deferred.rows[0]!.n) === 0 };
    };
    const timing = await waitCaughtUp(child, progress);
    await child.stop();
    if (VERBOSE) process.stdout.write(child.output());
    const entries = await database.client.query<{ n: string }>("SELECT count(*) AS n FROM stablerail.journal_entries");
    if (Number(entries.rows[0]!.n) !== chain.events)
      throw new Error(`our ledger holds ${entries.rows[0]!.n} journal entries for ${chain.events} events`);
    const rows = await database.client.query<{ account: string; balance: string }>(
      "SELECT account, balance FROM stablerail.account_balances WHERE chain_id = 31337",
    );
    const issuance = `issuance:${getAddress(chain.token.address)}`;
    const balances: Balances = new Map(
      rows.rows.map(({ account, balance }) => [
        account === issuance ? zeroAddress : getAddress(account.replace(/^holder:/, "")),
        BigInt(balance),
      ]),
    );
    return { ...timing, balances };
  } finally {
    await database.drop();
    await rm(deploymentsDir, { recursive: true, force: true });
  }
}

/** `ponder start` of bench/ponder into a fresh database, until it reports itself ready. */
async function runPonder(node: HardhatNode, chain: TransferChain): Promise<SideResult> {
  const database = await createDatabase("ponder");
  try {
    const port = await freePort();
    const child = spawnSide(
      join(PONDER_DIR, "node_modules/.bin/ponder"),
      ["start", "--schema", PONDER_SCHEMA, "--port", String(port)],
      PONDER_DIR,
      {
        DATABASE_URL: database.url,
        PONDER_RPC_URL: node.url,
        PONDER_TOKEN_ADDRESS: chain.token.address,
        PONDER_START_BLOCK: String(chain.token.blockNumber),
        // Not a speed setting: keeps a benchmark run from reporting to ponder.sh.
        PONDER_TELEMETRY_DISABLED: "true",
      },
    );
    const api = `http://127.0.0.1:${port}`;
    const progress = async () => {
      type Status = Partial<Record<string, { block: { number: number } }>>;
      const status: Status = await fetch(`${api}/status`)
        .then((response) => (response.ok ? (response.json() as Promise<Status>) : {}))
        .catch(() => ({}));
      const atHead = BigInt(status.hardhat?.block.number ?? -1) >= chain.head;
      // /ready answers once the blocks older than Ponder's finality depth are indexed; the newer
      // ones (30 on an unknown chain id such as 31337) are indexed by its realtime sync after that.
      const ready =
        atHead &&
        (await fetch(`${api}/ready`).then(
          (response) => response.status === 200,
          () => false,
        ));
      return { atHead, ready };
    };
    const timing = await waitCaughtUp(child, progress);
    await child.stop();
    if (VERBOSE) process.stdout.write(child.output());
    const transfers = await database.client.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${PONDER_SCHEMA}.transfers`,
    );
    if (Number(transfers.rows[0]!.n) !== chain.events)
      throw new Error(
        `Ponder's transfers table holds ${transfers.rows[0]!.n} rows for ${chain.events} events:\n${child.output()}`,
      );
    const rows = await database.client.query<{ address: string; balance: string }>(
      `SELECT address, balance FROM ${PONDER_SCHEMA}.balances`,
    );
    const balances: Balances = new Map(rows.rows.map(({ address, balance }) => [getAddress(address), BigInt(balance)]));
    return { ...timing, balances };
  } finally {
    await database.drop();
  }
}

type SideProcess = { child: ChildProcess; spawnedAt: number; output: () => string; stop: () => Promise<void> };

/** Spawns one side's process with its own variables over ours, minus any INDEXER_*, DATABASE_* or PONDER_* of the caller. */
function spawnSide(command: string, args: string[], cwd: string, env: Record<string, string>): SideProcess {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(INDEXER_|DATABASE_|PONDER_|LOG_)/.test(name)),
  );
  const spawnedAt = performance.now();
  const child = spawn(command, args, { cwd, env: { ...inherited, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  // The last 64 kB of output, shown if the side fails (the rest is drained, never buffered whole).
  let output = "";
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-65_536));
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    child,
    spawnedAt,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** Polls a side's progress and its processes' memory until it is caught up. */
async function waitCaughtUp(
  side: SideProcess,
  progress: () => Promise<{ atHead: boolean; ready: boolean }>,
): Promise<{ readyMs: number; headMs: number; peakRssMiB: number }> {
  let headMs: number | undefined;
  let peakKiB = 0;
  for (;;) {
    peakKiB = Math.max(peakKiB, highWaterKiB(side.child.pid!));
    const { atHead, ready } = await progress();
    const now = performance.now() - side.spawnedAt;
    if (atHead && headMs === undefined) headMs = now;
    if (ready) {
      peakKiB = Math.max(peakKiB, highWaterKiB(side.child.pid!));
      return { readyMs: now, headMs: headMs ?? now, peakRssMiB: Math.round(peakKiB / 1024) };
    }
    if (side.child.exitCode !== null) throw new Error(`${side.child.spawnfile} exited early:\n${side.output()}`);
    if (now > TIMEOUT_MS) {
      await side.stop();
      throw new Error(`${side.child.spawnfile} not caught up after ${seconds(now)}:\n${side.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** The largest VmHWM (peak resident set) among a process and its descendants, from /proc. */
function highWaterKiB(root: number): number {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProc(`/proc/${entry}/stat`);
    // The parent pid is the second field after the ")" that closes the command name.
    const parent = Number(stat?.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent)!.push(Number(entry));
  }
  let peak = 0;
  for (const pending = [root]; pending.length > 0;) {
    const pid = pending.pop()!;
    const match = /VmHWM:\s+(\d+) kB/.exec(readProc(`/proc/${pid}/status`) ?? "");
    peak = Math.max(peak, Number(match?.[1] ?? 0));
    pending.push(...(children.get(pid) ?? []));
  }
  return peak;
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined; // the process exited between the listing and the read
  }
}

/** A fresh database on the server, with a client to read it and a drop that also ends the client. */
async function createDatabase(label: string) {
  const name = `vs_ponder_${label}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`).finally(() => admin.end());
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  return {
    url: url.toString(),
    client,
    drop: async () => {
      await client.end();
      const dropper = new pg.Client({ connectionString: ADMIN_URL });
      await dropper.connect();
      await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).finally(() => dropper.end());
    },
  };
}

/** Stops the run unless both sides hold exactly the same balance for every holder. */
function expectSameBalances(ours: Balances, ponder: Balances): void {
  const holders = new Set([...ours.keys(), ...ponder.keys()]);
  for (const holder of holders) {
    if (ours.get(holder) !== ponder.get(holder))
      throw new Error(`balance of ${holder}: ours ${ours.get(holder)}, Ponder ${ponder.get(holder)}`);
  }
  let total = 0n;
  for (const balance of ours.values()) total += balance;
  if (total !== 0n) throw new Error(`our balances sum to ${total}, not 0`);
}

const loadavg = () =>
  os
    .loadavg()
    .map((load) => load.toFixed(2))
    .join(" / ");

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
