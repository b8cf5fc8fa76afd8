import type { Address, Hex, PublicClient, TransactionReceipt } from "viem";

import { readReceipt } from "./read-receipt.ts";

/**
 * What the canonical chain says about one nonce of a key, judged from one block:
 * - `mined`: one of our versions at that nonce is mined (its receipt);
 * - `open`: the key's count at the head does not cover the nonce yet;
 * - `taken`: the count covers it, none of our versions has a receipt, and the head the count was
 *   read at is still the chain's block at its height after the receipts were read;
 * - `unknown`: a read failed, or the chain reorganised between the reads — nothing may be concluded.
 */
export type NonceUse =
  { kind: "mined"; receipt: TransactionReceipt } | { kind: "open" } | { kind: "taken" } | { kind: "unknown" };

/**
 * Reads whether `nonce` of `address` was used, and by which of `hashes` (newest first is fine, any order
 * works). "Taken by another transaction" is a verdict that ends a relay (RELAY_NONCE_TAKEN) or a
 * record (`dropped`), so it must hold on one chain: the count is read at a fixed block, the receipts
 * after it, and the block is read again. Reading the count at "latest" and the receipts a moment later
 * mixes two chains when a reorg lands between the reads — the count from before it (the nonce used)
 * and the receipts from after it (our transaction gone): a transaction that mines again on the new
 * branch would be called taken, its relay failed, its nonce filled with a self-send.
 */
export async function readNonceUse(
  publicClient: PublicClient,
  address: Address,
  nonce: number,
  hashes: readonly Hex[],
): Promise<NonceUse> {
  try {
    const head = await publicClient.getBlock({ blockTag: "latest" });
    const count = await publicClient.getTransactionCount({ address, blockNumber: head.number });
    for (const hash of hashes) {
      const receipt = await readReceipt(publicClient, hash);
      if (receipt) return { kind: "mined", receipt };
    }
    if (count <= nonce) return { kind: "open" };
    const again = await publicClient.getBlock({ blockNumber: head.number }).catch((error: unknown) => {
      if ((error as Error).name === "BlockNotFoundError") return undefined; // the chain is shorter now
      throw error;
    });
    return again?.hash === head.hash ? { kind: "taken" } : { kind: "unknown" };
  } catch {
    return { kind: "unknown" };
  }
}
