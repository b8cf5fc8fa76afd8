import { and, asc, eq, inArray, isNotNull, isNull } from "drizzle-orm";
import type { Hash, Hex, PublicClient } from "viem";

import type { Database } from "../../lib/db/database.ts";
import type { Logger } from "../../lib/logging/logger.ts";
import { relays } from "../db/schema.ts";
import type { RelayerKey } from "../nonce-manager.ts";
import { recordReorged } from "../process-relay.ts";
import type { RelayQueue } from "../queue.ts";
import { readReceipt } from "../read-receipt.ts";
import { reviveRelayJob } from "./revive-relay-job.ts";

export type WatchFinalityParameters = {
  database: Database;
  publicClient: PublicClient;
  logger: Logger;
  queue: RelayQueue;
  /** The keys this process holds: it watches the relays they sent. */
  keys: readonly RelayerKey[];
  finalityBlocks: number;
  limit?: number;
};

/**
 * Re-checks confirmed relays until they are final. One block read per distinct block (not per
 * relay): while a relay's block is still the chain's block at its height, it stands, and at
 * `finalityBlocks` deep it is marked final and no longer read. A block that left the chain (a
 * reorg) sends every relay it carried back to `submitted` (`reorged`, its block forgotten, so
 * the movement is no longer shown as settled), the key re-broadcasts the same signed bytes at
 * the same nonce, and the relay's job is put back to follow them until they mine again — or the
 * relay ends failed with the chain's reason. A relay is never confirmed on a block the chain
 * dropped for longer than one watch round.
 * @returns the relay ids sent back by a reorg, and how many became final
 */
export async function watchFinality(p: WatchFinalityParameters): Promise<{ reorged: string[]; finalized: number }> {
  if (p.keys.length === 0) return { reorged: [], finalized: 0 };
  const rows = await p.database.db
    .select({
      relayId: relays.relayId,
      relayer: relays.relayer,
      blockNumber: relays.blockNumber,
      blockHash: relays.blockHash,
      transactionHash: relays.transactionHash,
    })
    .from(relays)
    .where(
      and(
        eq(relays.status, "confirmed"),
        isNull(relays.finalAt),
        isNotNull(relays.blockNumber),
        inArray(
          relays.relayer,
          p.keys.map((key) => key.address),
        ),
      ),
    )
    .orderBy(asc(relays.blockNumber))
    .limit(p.limit ?? 1_000);
  if (rows.length === 0) return { reorged: [], finalized: 0 };
  const head = await p.publicClient.getBlockNumber({ cacheTime: 0 });
  const canonical = new Map<bigint, Hash | undefined>();
  const hashAt = async (number: bigint) => {
    if (!canonical.has(number)) {
      const block = await p.publicClient.getBlock({ blockNumber: number }).catch((error: unknown) => {
        if ((error as Error).name === "BlockNotFoundError") return undefined; // the chain is shorter now
        throw error;
      });
      canonical.set(number, block?.hash ?? undefined);
    }
    return canonical.get(number);
  };
  const reorged: string[] = [];
  const final: string[] = [];
  for (const row of rows) {
    const number = BigInt(row.blockNumber!);
    let recordedHash = row.blockHash as Hash | null;
    if (recordedHash === null) {
      // Confirmed before block hashes were recorded: the receipt tells where it is now.
      // A failed read skips the row this round: it must not pass for a reorg.
      const receipt = await readReceipt(p.publicClient, row.transactionHash as Hex).catch(() => "unknown" as const);
      if (receipt === "unknown") continue;
      if (receipt && receipt.blockNumber === number) {
        recordedHash = receipt.blockHash;
        await p.database.db.update(relays).set({ blockHash: recordedHash }).where(eq(relays.relayId, row.relayId));
      }
    }
    const onChain = await hashAt(number);
    if (recordedHash !== null && onChain === recordedHash) {
      if (number + BigInt(p.finalityBlocks) <= head) final.push(row.relayId);
      continue;
    }
    const key = p.keys.find((k) => k.address.toLowerCase() === row.relayer?.toLowerCase());
    const moved = await recordReorged(
      p,
      [row.relayId],
      {
        transactionHash: row.transactionHash as Hex,
        blockNumber: number,
        blockHash: (recordedHash ?? "0x") as Hash,
      },
      key,
    );
    for (const relayId of moved) {
      reorged.push(relayId);
      await reviveRelayJob(p.queue, p.database, relayId);
    }
  }
  if (final.length > 0)
    await p.database.db
      .update(relays)
      .set({ finalAt: new Date() })
      .where(and(inArray(relays.relayId, final), eq(relays.status, "confirmed")));
  return { reorged, finalized: final.length };
}
