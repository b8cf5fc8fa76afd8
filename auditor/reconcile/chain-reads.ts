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
 *
 * Trap: deployless, a batch travels as contract creation code, which EIP-3860 caps at 49,152 bytes
 * (the node answers "create initcode size limit"), and its answer comes back as the created
 * contract's code, which EIP-170 caps at 24,576 bytes ("trying to deploy a contract whose code is
 * too large") — either way every call of the batch fails. A deployless batch is therefore also cut
 * by its encoded size and its answer's size: about 150 `balanceOf` per eth_call instead of 500.
 * A Multicall3 deployed on the chain has neither limit.
 */
import { encodeFunctionData, type Abi, type Address, type PublicClient } from "viem";

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

  async function readBatch(
    calls: readonly ContractRead[],
    blockNumber: bigint,
    deployed: boolean,
  ): Promise<ReadResult[]> {
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
      const deployed = await usable(blockNumber);
      const batches = deployed ? batchesByCount(calls, batchSize) : batchesBySize(calls, batchSize);
      const results: ReadResult[][] = new Array(batches.length);
      let next = 0;
      const worker = async () => {
        while (next < batches.length) {
          const index = next++;
          results[index] = await readBatch(batches[index]!, blockNumber, deployed);
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, batches.length) }, worker));
      return results.flat();
    },
  };
}

/**
 * Budget for one deployless aggregate3 calldata: the init code also carries the deployless wrapper
 * (~0.4 kB) and Multicall3's bytecode (~3.8 kB) under EIP-3860's 49,152 bytes; the rest is margin.
 */
export const DEPLOYLESS_CALLDATA_BYTES = 40_000;
/** Budget for one deployless aggregate3 answer: EIP-170's 24,576 bytes of code, less margin. */
export const DEPLOYLESS_RETURN_BYTES = 24_000;

type AbiParameterShape = { type: string; components?: readonly AbiParameterShape[] };

/** Words a value of this ABI type takes when static; a dynamic one is budgeted at 32 words. */
function staticWords(parameter: AbiParameterShape): number {
  if (parameter.type === "tuple") return (parameter.components ?? []).reduce((n, c) => n + staticWords(c), 0);
  if (parameter.type === "string" || parameter.type === "bytes" || parameter.type.endsWith("]")) return 32;
  return 1;
}

/** The bytes one call's Result takes in aggregate3's answer: offset, success, bytes offset and length, data. */
function resultBytes(call: ContractRead): number {
  const item = call.abi.find(
    (entry): entry is Extract<Abi[number], { type: "function" }> =>
      entry.type === "function" && entry.name === call.functionName,
  );
  const words = (item?.outputs ?? []).reduce((n, output) => n + staticWords(output as AbiParameterShape), 0);
  return 4 * 32 + words * 32;
}

function batchesByCount(calls: readonly ContractRead[], batchSize: number): ContractRead[][] {
  const batches: ContractRead[][] = [];
  for (let i = 0; i < calls.length; i += batchSize) batches.push(calls.slice(i, i + batchSize));
  return batches;
}

/** At most `batchSize` calls per batch, within the deployless calldata and answer budgets. */
function batchesBySize(calls: readonly ContractRead[], batchSize: number): ContractRead[][] {
  const batches: ContractRead[][] = [];
  let batch: ContractRead[] = [];
  let bytes = 68; // selector, the array's offset and length
  let returned = 64; // the answer array's offset and length
  for (const call of calls) {
    const data = encodeFunctionData({ abi: call.abi, functionName: call.functionName, args: call.args as never });
    const dataBytes = (data.length - 2) / 2;
    // One Call3 in the array: its offset, target, allowFailure, the bytes' offset and length, the data padded to words.
    const size = 5 * 32 + Math.ceil(dataBytes / 32) * 32;
    const answer = resultBytes(call);
    if (
      batch.length > 0 &&
      (batch.length >= batchSize ||
        bytes + size > DEPLOYLESS_CALLDATA_BYTES ||
        returned + answer > DEPLOYLESS_RETURN_BYTES)
    ) {
      batches.push(batch);
      batch = [];
      bytes = 68;
      returned = 64;
    }
    batch.push(call);
    bytes += size;
    returned += answer;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/** Multicall3's address on public chains (deployed at the same address everywhere by its authors). */
export const CANONICAL_MULTICALL3: Address = "0xcA11bde05977b3631167028862bE2a173976CA11";
