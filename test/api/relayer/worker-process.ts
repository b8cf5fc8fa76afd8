import { spawn } from "node:child_process";

import { getAddress, type Address } from "viem";

import { writeDeployment } from "../../../lib/chain/deployments.ts";
import { TEST_POSTGRES_URL } from "../../helpers/database.ts";
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
 * Runs the real worker process (`npm run worker`: api/worker.ts) as a child with `env` added to
 * this process's environment — Node itself with tsx as a loader, so SIGTERM reaches the worker.
 */
export function spawnWorkerProcess(env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "api/worker.ts"], {
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
 * The environment of a worker process sharing this test's world: the fixture's chain over `rpcUrl`,
 * its deployment file in `dir`, the PostgreSQL `schema`, the fixture's Redis prefix; `relayer` adds
 * the RELAYER_* settings of this test.
 */
export function workerProcessEnv(
  f: RelayerFixture,
  p: { rpcUrl: string; dir: string; schema: string; relayer: Record<string, string> },
): Record<string, string> {
  return {
    LOG_LEVEL: "info",
    DATA_DIR: p.dir,
    RPC_URL: p.rpcUrl,
    CHAIN_ID: "31337",
    DEPLOYMENTS_DIR: p.dir,
    DATABASE_URL: TEST_POSTGRES_URL,
    DATABASE_SCHEMA: p.schema,
    DATABASE_POOL_SIZE: "5",
    REDIS_URL,
    REDIS_PREFIX: f.prefix,
    RELAYER_CONFIRMATIONS: "0",
    ...p.relayer,
  };
}

/** Writes the fixture's contracts as `<dir>/31337.json`, the deployment file a worker process reads. */
export async function writeFixtureDeployment(f: RelayerFixture, dir: string): Promise<void> {
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
