/**
 * Batched contract reads at one block, the only way the reconciliation reads state from the node:
 * `balanceOf`, `totalSupply` and `paymentState` for many accounts in few JSON-RPC round trips.
 * Input: a viem public client (any JSON-RPC endpoint) and calls. Output: each call's result, or its
 * failure, in the order given.
 *
 * Calls go through Multicall3's `aggregate3` in one `eth_call` per batch: at the Multicall3 address
 * given (one the local stack deployed, or the canonical 0xcA11…CA11 of public chains), or — when the
 * node has none — "deployless", the same bytecode run as the call's init code (viem's `deployless`).
 * Either way nothing but the node is trusted, and a batch answers as of the block asked for. Several
 * batches are in flight at once (`concurrency`), so the node's cores and the database reads overlap.
 */
import type { Abi, Address, PublicClient } from "viem";

export type ContractRead = { address: Address; abi: Abi; functionName: string; args?: readonly unknown[] };

export type ReadResult = { status: "success"; result: unknown } | { status: "failure"; error: string };

export type ChainReaderOptions = {
  /** A Multicall3 with `aggregate3` on this chain; absent = deployless. */
  multicallAddress?: Address | undefined;
  /** Calls per eth_call (default 500). */
  batchSize?: number | undefined;
  /** eth_calls in flight at once (default 4). */
  concurrency?: number | undefined;
};

export type ChainReader = {
  /** Reads every call at `blockNumber`; results in call order. */
  readAll: (calls: readonly ContractRead[], blockNumber: bigint) => Promise<ReadResult[]>;
  /** How reads are batched, for the report. */
  readonly mode: "multicall3" | "deployless-multicall3";
  readonly multicallAddress: Address | undefined;
};

/**
 * Creates the batched reader.
 * @example
 * const reader = createChainReader(client, { multicallAddress: deployment.multicall3 });
 * const [balance] = await reader.readAll([{ address: token, abi: stablecoinAbi, functionName: "balanceOf", args: [holder] }], 42n);
 */
export function createChainReader(client: PublicClient, options: ChainReaderOptions = {}): ChainReader {
  const batchSize = options.batchSize ?? 500;
  const concurrency = options.concurrency ?? 4;
  const multicallAddress = options.multicallAddress;

  // A Multicall3 deployed after the block asked for is not there yet: that block is read deployless.
  const deployedAt = new Map<bigint, Promise<boolean>>();
  const usable = (blockNumber: bigint) => {
    if (!multicallAddress) return Promise.resolve(false);
    let known = deployedAt.get(blockNumber);
    if (!known) {
      known = client
        .getCode({ address: multicallAddress, blockNumber })
        .then((code) => code !== undefined && code !== "0x")
        .catch(() => false);
      deployedAt.set(blockNumber, known);
    }
    return known;
  };

  async function readBatch(calls: readonly ContractRead[], blockNumber: bigint): Promise<ReadResult[]> {
    const deployed = await usable(blockNumber);
    const results = await client.multicall({
      contracts: calls as never,
      blockNumber,
      allowFailure: true,
      // viem chunks by calldata bytes; one chunk per batch here (the batch size is ours).
      batchSize: Number.MAX_SAFE_INTEGER,
      ...(deployed ? { multicallAddress: multicallAddress! } : { deployless: true }),
    });
    return (results as { status: "success" | "failure"; result?: unknown; error?: Error }[]).map((r) =>
      r.status === "success"
        ? { status: "success", result: r.result }
        : { status: "failure", error: r.error?.message.split("\n")[0] ?? "call failed" },
    );
  }

  return {
    mode: multicallAddress ? "multicall3" : "deployless-multicall3",
    multicallAddress,
    readAll: async (calls, blockNumber) => {
      const batches: ContractRead[][] = [];
      for (let i = 0; i < calls.length; i += batchSize) batches.push(calls.slice(i, i + batchSize));
      const results: ReadResult[][] = new Array(batches.length);
      let next = 0;
      const worker = async () => {
        while (next < batches.length) {
          const index = next++;
          results[index] = await readBatch(batches[index]!, blockNumber);
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, batches.length) }, worker));
      return results.flat();
    },
  };
}

/** Multicall3's address on public chains (deployed at the same address everywhere by its authors). */
export const CANONICAL_MULTICALL3: Address = "0xcA11bde05977b3631167028862bE2a173976CA11";
