import { and, asc, eq, gt } from "drizzle-orm";
import type { Address, Hash } from "viem";

import type { Database } from "../../db/database.ts";
import { chainEvents } from "../schema.ts";

export type ListChainEventsParameters = {
  chainId: number;
  /** Return events with an id greater than this (the dispatcher's cursor); 0n from the start. */
  afterId: bigint;
  limit?: number;
};

export type ChainEvent = {
  id: bigint;
  blockNumber: bigint;
  blockHash: Hash;
  blockTimestamp: bigint;
  transactionHash: Hash;
  logIndex: number;
  contract: Address;
  contractName: string;
  eventName: string;
  /** Decoded args, bigints as decimal strings. */
  args: Record<string, unknown>;
};

/**
 * Decoded Stablerail events after an id cursor, in id (= indexing) order, for the webhook
 * dispatcher. A reorg deletes the orphaned events; the new branch's events get new, higher ids,
 * so a dispatcher that only moves forward sees each canonical event once.
 */
export async function listChainEvents(
  database: Database,
  { chainId, afterId, limit = 100 }: ListChainEventsParameters,
): Promise<ChainEvent[]> {
  const rows = await database.db
    .select()
    .from(chainEvents)
    .where(and(eq(chainEvents.chainId, chainId), gt(chainEvents.id, afterId)))
    .orderBy(asc(chainEvents.id))
    .limit(Math.min(Math.max(limit, 1), 1000));
  return rows.map((row) => ({
    id: row.id,
    blockNumber: row.blockNumber,
    blockHash: row.blockHash as Hash,
    blockTimestamp: row.blockTimestamp,
    transactionHash: row.transactionHash as Hash,
    logIndex: row.logIndex,
    contract: row.contract as Address,
    contractName: row.contractName,
    eventName: row.eventName,
    args: row.args as Record<string, unknown>,
  }));
}
