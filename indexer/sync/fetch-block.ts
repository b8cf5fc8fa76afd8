import type { DecodedLog } from "../../lib/ledger/types.ts";
import type { Decoder } from "../decode/decode-log.ts";
import type { BlockHeader, Rpc } from "../rpc/rpc.ts";

export type BlockWithLogs = { block: BlockHeader; logs: DecodedLog[] };

/**
 * Fetches one block's header and its logs by block hash (so header and logs belong to the same
 * branch even while the node reorganises).
 */
export async function fetchBlockWithLogs(rpc: Rpc, decoder: Decoder, number: bigint): Promise<BlockWithLogs> {
  const block = await rpc.getBlockHeader(number);
  const raw =
    decoder.addresses.length === 0
      ? []
      : await rpc.getLogsOfBlock({ addresses: decoder.addresses, blockHash: block.hash });
  const logs = raw
    .map((log) => decoder.decode(log, block.timestamp))
    .filter((log): log is DecodedLog => log !== undefined)
    .sort((a, b) => a.logIndex - b.logIndex);
  return { block, logs };
}
