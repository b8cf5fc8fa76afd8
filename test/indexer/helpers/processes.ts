import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";

import { createPublicClient, createWalletClient, http, type Abi, type PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { stablerailChain } from "../../../lib/chain/chain.ts";
import { INDEXER_NODE_FLAGS } from "../../../lib/process/node-flags.ts";
import { HARDHAT_PRIVATE_KEYS } from "../../helpers/chain.ts";
import { compileTestToken, deployTestToken } from "../fixtures/test-token.ts";

/** A free TCP port on 127.0.0.1 (asked from the OS). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

export type HardhatNode = {
  url: string;
  client: PublicClient;
  process: ChildProcess;
  stderr: () => string;
  stop: () => Promise<void>;
};

/** Starts `hardhat node --port <free port>` as a child and waits until it answers JSON-RPC. */
export async function startHardhatNode(): Promise<HardhatNode> {
  const port = await freePort();
  const child = spawn("node_modules/.bin/hardhat", ["node", "--port", String(port)], {
    cwd: process.cwd(),
    env: process.env,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const client = createPublicClient({
    chain: stablerailChain(31337, url),
    transport: http(url),
    pollingInterval: 50,
  }) as PublicClient;
  const probe = createPublicClient({ transport: http(url, { retryCount: 0 }) });
  for (let attempt = 0; ; attempt++) {
    try {
      await probe.getBlockNumber();
      break;
    } catch {
      if (child.exitCode !== null || attempt > 600) throw new Error(`hardhat node did not start: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    url,
    client,
    process: child,
    stderr: () => stderr,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/** Spawns `tsx indexer/main.ts` with the node flags `npm run indexer` gives it and the given environment (stdout/stderr collected). */
export function spawnIndexer(env: Record<string, string>): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  // Node itself with tsx as a loader (not the tsx wrapper), so signals reach the indexer and not a parent shim.
  const child = spawn(process.execPath, [...INDEXER_NODE_FLAGS, "--import", "tsx", "indexer/main.ts"], {
    cwd: process.cwd(),
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/**
 * A Hardhat node in its own process with the test token deployed and 10^30 of it minted to account
 * #0, which `wallet` signs for: the start of every test that fills blocks with transfers.
 */
export async function startNodeWithMintedToken() {
  const node = await startHardhatNode();
  const account = privateKeyToAccount(HARDHAT_PRIVATE_KEYS[0]);
  const wallet = createWalletClient({ account, chain: stablerailChain(31337, node.url), transport: http(node.url) });
  const deployed = await deployTestToken(node.client, wallet);
  const abi = compileTestToken().abi as Abi;
  await node.client.waitForTransactionReceipt({
    hash: await wallet.writeContract({
      address: deployed.address,
      abi,
      functionName: "mint",
      args: [account.address, 10n ** 30n],
    }),
  });
  return { node, account, wallet, abi, token: deployed.address, startBlock: deployed.blockNumber };
}
