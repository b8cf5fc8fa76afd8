import type { PublicClient } from "viem";

export type Fees = { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint };

// Per client: the fee read the callers of the current event-loop turn wait for, until it is sent.
const nextRead = new WeakMap<PublicClient, Promise<Fees>>();

/**
 * EIP-1559 fees for the next block, by viem's rule: the latest block's base fee × 1.2 plus the
 * node's suggested tip. The 20 % covers one full block's rise (at most 12.5 %), not two; a
 * transaction priced below the base fee waits in the pool until the follower replaces it
 * (follow-transaction.ts: both fees raised by 12.5 % and never below a new estimate), so a rising
 * base fee costs a replacement, never a lost relay. The gas-price cap is checked against this
 * maxFeePerGas.
 *
 * Callers of one event-loop turn share one read (a block and the node's tip: two requests), sent
 * in the `setImmediate` after them — never a read sent before the caller asked, so a fee change
 * mined before the call is seen, as by a read of its own. Concurrent relays then pay for one fee
 * read per turn instead of one each.
 */
export function estimateFees(publicClient: PublicClient): Promise<Fees> {
  let read = nextRead.get(publicClient);
  if (!read) {
    read = new Promise<Fees>((resolve, reject) => {
      setImmediate(() => {
        // Sent now: whoever asks from here on joins the next read.
        nextRead.delete(publicClient);
        publicClient
          .estimateFeesPerGas({ type: "eip1559" } as never)
          .then(({ maxFeePerGas, maxPriorityFeePerGas }) => resolve({ maxFeePerGas, maxPriorityFeePerGas }), reject);
      });
    });
    nextRead.set(publicClient, read);
  }
  return read;
}

/**
 * Fees for a replacement at the same nonce: nodes require both to rise by at least 10%; this
 * raises by 12.5% (rounded up) and never below the current estimate.
 */
export function bumpFees(previous: Fees, current?: Fees): Fees {
  const raise = (value: bigint) => value + (value * 125n + 999n) / 1000n + 1n;
  const max = (a: bigint, b: bigint) => (a > b ? a : b);
  const maxPriorityFeePerGas = max(raise(previous.maxPriorityFeePerGas), current?.maxPriorityFeePerGas ?? 0n);
  const maxFeePerGas = max(max(raise(previous.maxFeePerGas), current?.maxFeePerGas ?? 0n), maxPriorityFeePerGas);
  return { maxFeePerGas, maxPriorityFeePerGas };
}
