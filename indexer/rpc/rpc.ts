/**
 * RPC stage: the few JSON-RPC calls the indexer makes, over a viem public client (http for the
 * process; `custom()` over Hardhat's in-process provider in tests). Block headers come back in
 * the ledger's shape; errors are classified so the historical sync can shrink its ranges.
 */
import type { Address, Hash, Log, PublicClient } from "viem";

import { UnavailableError } from "../../lib/errors/base.ts";

export type BlockHeader = { number: bigint; hash: Hash; parentHash: Hash; timestamp: bigint };

export type Rpc = {
  getHeadNumber: () => Promise<bigint>;
  getBlockHeader: (number: bigint) => Promise<BlockHeader>;
  getLogsInRange: (parameters: { addresses: Address[]; fromBlock: bigint; toBlock: bigint }) => Promise<Log[]>;
  getLogsOfBlock: (parameters: { addresses: Address[]; blockHash: Hash }) => Promise<Log[]>;
};

/**
 * Creates the RPC stage.
 * @param parameters.client - viem public client of the chain
 */
export function createRpc({ client }: { client: PublicClient }): Rpc {
  return {
    getHeadNumber: () => client.getBlockNumber({ cacheTime: 0 }),
    getBlockHeader: async (number) => {
      const block = await client.getBlock({ blockNumber: number });
      if (block.hash === null)
        throw new UnavailableError("RPC_PENDING_BLOCK", `node returned block ${number} without a hash`);
      return { number: block.number, hash: block.hash, parentHash: block.parentHash, timestamp: block.timestamp };
    },
    getLogsInRange: ({ addresses, fromBlock, toBlock }) => client.getLogs({ address: addresses, fromBlock, toBlock }),
    getLogsOfBlock: ({ addresses, blockHash }) => client.getLogs({ address: addresses, blockHash }),
  };
}

/**
 * Whether a getLogs error means "ask for fewer blocks" (range or result-count limits differ
 * per provider; the common phrasings are matched).
 */
export function isRangeTooLargeError(error: unknown): boolean {
  const text = `${(error as { details?: string })?.details ?? ""} ${(error as Error)?.message ?? ""}`.toLowerCase();
  return /too many|range|limit|exceed|query returned more than|response size|timeout|timed out/.test(text);
}
