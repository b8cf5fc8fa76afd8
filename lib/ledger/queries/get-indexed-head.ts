import { eq } from "drizzle-orm";
import type { Hash } from "viem";

import type { Database } from "../../db/database.ts";
import { ledgerChains } from "../schema.ts";

export type IndexedHead = {
  chainId: number;
  number: bigint;
  hash: Hash;
  timestamp: bigint;
  genesisHash: Hash;
  updatedAt: Date;
};

/**
 * The last block whose movements are in the ledger (every entry at or below it is indexed).
 * @returns the head, or `undefined` before the indexer first ran on this chain
 */
export async function getIndexedHead(
  database: Database,
  { chainId }: { chainId: number },
): Promise<IndexedHead | undefined> {
  const [row] = await database.db.select().from(ledgerChains).where(eq(ledgerChains.chainId, chainId));
  if (!row) return undefined;
  return {
    chainId,
    number: row.headNumber,
    hash: row.headHash as Hash,
    timestamp: row.headTimestamp,
    genesisHash: row.genesisHash as Hash,
    updatedAt: row.updatedAt,
  };
}
