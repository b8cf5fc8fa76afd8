import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { getAddress, type Address } from "viem";

import { writeDeployment } from "../../lib/chain/deployments.ts";
import { runMigrations } from "../../lib/db/migrate.ts";
import { ledgerMigrations } from "../../lib/ledger/migration-set.ts";
import { relayerMigrations } from "../../relayer/db/migration-set.ts";
import { createTestDatabase, TEST_POSTGRES_URL } from "../helpers/database.ts";
import { serveJsonRpc } from "../helpers/json-rpc-server.ts";
import { REDIS_URL, type RelayerFixture } from "./fixture.ts";

export type WorkerProcess = {
  /** Relayer keys and operator key the process leased, from its "relay workers started" log line. */
  started: Promise<{ relayers: Address[]; operator: Address | undefined }>;
  /** Everything the process wrote (JSON log lines), for diagnostics. */
  output: () => string;
  /** Exit code once the process ended, `null` while it runs. */
  exitCode: () => number | null;
  /** SIGTERM (graceful: the workers finish running jobs and release their leases); resolves on exit. */
  stop: () => Promise<void>;
  /** SIGKILL (a crash: nothing released, leases left to expire); resolves on exit. */
  kill: () => Promise<void>;
};

/**
 * Runs the real relayer process (`npm run relayer`: relayer/main.ts) as a child with `env` added to
 * this process's environment — Node itself with tsx as a loader, so SIGTERM reaches the worker.
 */
export function spawnWorkerProcess(env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "relayer/main.ts"], {
    cwd: process.cwd(),
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let pending = "";
  let resolveStarted: (value: { relayers: Address[]; operator: Address | undefined }) => void;
  let rejectStarted: (error: Error) => void;
  const started = new Promise<{ relayers: Address[]; operator: Address | undefined }>((resolve, reject) => {
    resolveStarted = resolve;
    rejectStarted = reject;
  });
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
    pending += chunk.toString();
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      const entry = parseLogLine(line);
      if (entry?.msg === "relay workers started") {
        resolveStarted({
          relayers: ((entry.relayers as string[] | undefined) ?? []).map((address) => getAddress(address)),
          operator: typeof entry.operator === "string" ? getAddress(entry.operator) : undefined,
        });
      }
    }
  });
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) =>
    child.once("exit", (code) => {
      rejectStarted(new Error(`worker process exited with ${code} before it started:\n${output}`));
      resolve();
    }),
  );
  return {
    started,
    output: () => output,
    exitCode: () => child.exitCode,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}

function parseLogLine(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * What a worker process and this test process share, as two machines would: the fixture's chain
 * served over JSON-RPC, its deployment file, a PostgreSQL schema (PGlite cannot be shared between
 * processes) migrated up front so the child starts on a ready schema, and the fixture's Redis prefix.
 */
export type SharedWorld = {
  database: Awaited<ReturnType<typeof createTestDatabase>>;
  /** The environment of a worker process in this world; `relayer` adds this test's RELAYER_* settings. */
  workerEnv: (relayer: Record<string, string>) => Record<string, string>;
  close: () => Promise<void>;
};

export async function createSharedWorld(f: RelayerFixture, label: string): Promise<SharedWorld> {
  const database = await createTestDatabase("postgres", label);
  // The child's webhook dispatcher reads the ledger's chain_events.
  await runMigrations(database, [ledgerMigrations, relayerMigrations]);
  const rpc = await serveJsonRpc(f.chain.provider);
  const dir = await mkdtemp(join(tmpdir(), `stablerail-${label}-`));
  await writeFixtureDeployment(f, dir);
  return {
    database,
    workerEnv: (relayer) => ({
      LOG_LEVEL: "info",
      DATA_DIR: dir,
      RPC_URL: rpc.url,
      CHAIN_ID: "31337",
      DEPLOYMENTS_DIR: dir,
      DATABASE_URL: TEST_POSTGRES_URL,
      DATABASE_SCHEMA: database.schema,
      DATABASE_POOL_SIZE: "5",
      REDIS_URL,
      REDIS_PREFIX: f.prefix,
      RELAYER_CONFIRMATIONS: "0",
      ...relayer,
    }),
    close: async () => {
      await rpc.close();
      await rm(dir, { recursive: true, force: true });
      await database.drop();
    },
  };
}

/** Writes the fixture's contracts as `<dir>/31337.json`, the deployment file a worker process reads. */
async function writeFixtureDeployment(f: RelayerFixture, dir: string): Promise<void> {
  const genesis = await f.chain.publicClient.getBlock({ blockNumber: 0n });
  const at = (address: Address) => ({ address, blockNumber: 0 });
  await writeDeployment(dir, {
    chainId: 31337,
    genesisHash: genesis.hash,
    startBlock: 0,
    deployedAt: new Date().toISOString(),
    contracts: {
      Stablecoin: at(f.contracts.stablecoin),
      StablerailForwarder: at(f.contracts.forwarder),
      PaymentEscrow: at(f.contracts.paymentEscrow),
      Settlement: at(f.contracts.settlement),
    },
  });
}
