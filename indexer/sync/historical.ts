/**
 * Historical sync stage: backfills a block range with eth_getLogs over ranges sized by what the
 * node returns (./log-range.ts): a small probe first, then ranges that carry about the target
 * number of logs and stay well below the client's response size limit; cut to a quarter when the
 * node still refuses one (too many results, range limit, timeout). Input: a range and the decoder.
 * Output: batches of decoded logs with the headers of their blocks and of the batch's last block
 * (the checkpoint the writer stores).
 */
import { UnavailableError } from "../../lib/errors/base.ts";
import type { Logger } from "../../lib/logging/logger.ts";
import type { DecodedLog } from "../../lib/ledger/types.ts";
import type { Decoder } from "../decode/decode-log.ts";
import { isRangeTooLargeError, type BlockHeader, type Rpc } from "../rpc/rpc.ts";
import { DEFAULT_MAX_RESPONSE_BYTES, estimateLogBytes, nextLogRange, shrinkRefusedRange } from "./log-range.ts";

export type HistoricalBatch = { fromBlock: bigint; blocks: BlockHeader[]; logs: DecodedLog[]; head: BlockHeader };

export type HistoricalSyncOptions = {
  /** Blocks of the first request (a probe: the ones after it are sized by the density it returned). */
  initialRange: number;
  maxRange: number;
  /** Logs per response the range is sized to. */
  targetLogsPerRequest: number;
  /** Largest estimated response body in bytes (default 4 MiB, below viem's 10 MiB refusal limit). */
  maxResponseBytes?: number;
  /** Parallel eth_getBlockByNumber calls for the headers of blocks with logs. */
  headerConcurrency: number;
};

export type HistoricalSync = {
  /** Yields consecutive batches covering `fromBlock..toBlock`. */
  sync: (fromBlock: bigint, toBlock: bigint) => AsyncGenerator<HistoricalBatch>;
};

/**
 * Creates the historical sync stage.
 * @example
 * for await (const batch of historical.sync(100n, head)) await writer.commit(batch);
 */
export function createHistoricalSync({
  common,
  rpc,
  decoder,
  options,
}: {
  common: { logger: Logger };
  rpc: Rpc;
  decoder: Decoder;
  options: HistoricalSyncOptions;
}): HistoricalSync {
  let range = BigInt(options.initialRange);
  const limits = {
    targetLogs: options.targetLogsPerRequest,
    maxRange: BigInt(options.maxRange),
    maxBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
  };

  async function* sync(fromBlock: bigint, toBlock: bigint): AsyncGenerator<HistoricalBatch> {
    let cursor = fromBlock;
    while (cursor <= toBlock) {
      const end = cursor + range - 1n > toBlock ? toBlock : cursor + range - 1n;
      let raw;
      try {
        raw =
          decoder.addresses.length === 0
            ? []
            : await rpc.getLogsInRange({ addresses: decoder.addresses, fromBlock: cursor, toBlock: end });
      } catch (error) {
        if (isRangeTooLargeError(error) && end > cursor) {
          range = shrinkRefusedRange(end - cursor + 1n);
          common.logger.debug({ fromBlock: cursor, range }, "eth_getLogs range refused; shrinking");
          continue;
        }
        throw new UnavailableError(
          "RPC_GET_LOGS_FAILED",
          `eth_getLogs ${cursor}..${end} failed: ${(error as Error).message}`,
          { cause: error },
        );
      }
      let bytes = 0;
      for (const log of raw) bytes += estimateLogBytes(log);
      range = nextLogRange({ blocks: end - cursor + 1n, logs: raw.length, bytes }, limits);

      const numbers = [...new Set(raw.map((log) => log.blockNumber!))];
      if (!numbers.includes(end)) numbers.push(end);
      const headers = new Map<bigint, BlockHeader>();
      for (let i = 0; i < numbers.length; i += options.headerConcurrency) {
        const slice = numbers.slice(i, i + options.headerConcurrency);
        const fetched = await Promise.all(slice.map((number) => rpc.getBlockHeader(number)));
        for (const header of fetched) headers.set(header.number, header);
      }
      const logs: DecodedLog[] = [];
      for (const log of raw) {
        const header = headers.get(log.blockNumber!)!;
        // A log from another branch than its header means the node reorganised under us: retry later.
        if (header.hash !== log.blockHash)
          throw new UnavailableError(
            "RPC_REORG_DURING_BACKFILL",
            `block ${header.number} changed while backfilling; retrying`,
          );
        const decoded = decoder.decode(log, header.timestamp);
        if (decoded) logs.push(decoded);
      }
      logs.sort((a, b) =>
        a.blockNumber === b.blockNumber ? a.logIndex - b.logIndex : a.blockNumber < b.blockNumber ? -1 : 1,
      );
      yield { fromBlock: cursor, blocks: [...headers.values()], logs, head: headers.get(end)! };
      cursor = end + 1n;
    }
  }

  return { sync };
}
