/**
 * Realtime sync stage: follows new heads by polling, one block at a time, and checks each
 * block's parent hash against the last one indexed. A mismatch is a reorg at any depth: the
 * stage walks back over the stored headers to the common ancestor, fetches the new branch and
 * yields it as one `reorg` event (the writer rolls back and applies it in one transaction).
 * Input: the checkpoint and the confirmation depth. Output: `block | reorg` events.
 */
import type { Hash } from "viem";

import { UnavailableError } from "../../lib/errors/base.ts";
import type { Decoder } from "../decode/decode-log.ts";
import type { BlockHeader, Rpc } from "../rpc/rpc.ts";
import { fetchBlockWithLogs, type BlockWithLogs } from "./fetch-block.ts";

export type RealtimeEvent =
  | ({ type: "block" } & BlockWithLogs)
  | {
      type: "reorg";
      ancestor: BlockHeader | { number: bigint; hash: Hash | undefined };
      orphaned: bigint;
      blocks: BlockWithLogs[];
    };

export type RealtimeSync = {
  /**
   * Yields events from the block after `checkpoint` up to the node's head minus the confirmation
   * depth, then returns (the caller polls again). The caller must apply each event before pulling the next.
   */
  catchUp: (checkpoint: { number: bigint; hash: Hash }) => AsyncGenerator<RealtimeEvent>;
  /** The newest stored block at or below `from` that is still on the node's chain (`hash` undefined: none, roll back to the floor). */
  findAncestor: (from: bigint) => Promise<BlockHeader | { number: bigint; hash: undefined }>;
};

/**
 * Creates the realtime sync stage.
 * @param parameters.storedBlocksBelow - the writer's stored headers, newest first (for the ancestor search)
 * @param parameters.floor - the block before the first indexed one; the ancestor search never goes below it
 */
export function createRealtimeSync({
  rpc,
  decoder,
  confirmations,
  storedBlocksBelow,
  floor,
}: {
  rpc: Rpc;
  decoder: Decoder;
  confirmations: number;
  storedBlocksBelow: (below: bigint, limit: number) => Promise<BlockHeader[]>;
  floor: bigint;
}): RealtimeSync {
  async function findAncestor(from: bigint): Promise<BlockHeader | { number: bigint; hash: undefined }> {
    let below = from;
    for (;;) {
      const stored = await storedBlocksBelow(below, 64);
      if (stored.length === 0) return { number: floor, hash: undefined };
      for (const header of stored) {
        const onChain = await rpc.getBlockHeader(header.number);
        if (onChain.hash === header.hash) return header;
      }
      below = stored[stored.length - 1]!.number - 1n;
      if (below <= floor) return { number: floor, hash: undefined };
    }
  }

  async function* catchUp(checkpoint: { number: bigint; hash: Hash }): AsyncGenerator<RealtimeEvent> {
    let last = checkpoint;
    const target = (await rpc.getHeadNumber()) - BigInt(confirmations);
    // The block after the one being written is fetched while it is written (when the head is
    // further on): fetch and write overlap instead of taking turns. The prefetched block is still
    // parent-checked against the block before it when its turn comes, so a reorg in between is
    // seen as one.
    let ahead: Promise<BlockWithLogs> | undefined;
    const prefetch = (number: bigint) => {
      const fetching = fetchBlockWithLogs(rpc, decoder, number);
      fetching.catch(() => undefined);
      return fetching;
    };
    while (last.number < target) {
      const next = await (ahead ?? prefetch(last.number + 1n));
      ahead = undefined;
      if (next.block.parentHash === last.hash || last.number === floor) {
        if (next.block.number < target) ahead = prefetch(next.block.number + 1n);
        yield { type: "block", ...next };
        last = next.block;
        continue;
      }
      const ancestor = await findAncestor(last.number);
      const blocks: BlockWithLogs[] = [];
      let parent = ancestor.hash;
      let broken: { number: bigint; parentHash: Hash } | undefined;
      for (let number = ancestor.number + 1n; number <= next.block.number; number++) {
        const fetched = await fetchBlockWithLogs(rpc, decoder, number);
        if (parent !== undefined && fetched.block.parentHash !== parent) {
          broken = { number, parentHash: fetched.block.parentHash };
          break;
        }
        parent = fetched.block.hash;
        blocks.push(fetched);
      }
      // What is above the ancestor is not on the node's chain any more: it leaves the ledger now,
      // with the part of the new branch that links — even when the rest does not (a node mid-reorg,
      // or one serving a broken chain), so the ledger never keeps orphaned entries while it waits.
      if (blocks.length > 0 || ancestor.number < last.number)
        yield { type: "reorg", ancestor, orphaned: last.number - ancestor.number, blocks };
      if (broken) {
        const expected = blocks[blocks.length - 1]?.block.hash ?? ancestor.hash;
        throw new UnavailableError(
          "RPC_CHAIN_NOT_LINKED",
          `block ${broken.number}'s parent hash ${broken.parentHash} is not block ${broken.number - 1n}'s hash ${expected}: the node is reorganising or serves a broken chain; the ledger stays at the last linked block until it links`,
          { details: { block: broken.number.toString(), parentHash: broken.parentHash } },
        );
      }
      last =
        blocks[blocks.length - 1]?.block ??
        (ancestor.hash === undefined ? { number: floor, hash: "0x" as Hash } : ancestor);
    }
  }

  return { catchUp, findAncestor };
}
