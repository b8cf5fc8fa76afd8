import type { PublicClient } from "viem";

export type Fees = { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint };

/**
 * EIP-1559 fees for the next block: twice the base fee plus the node's suggested tip, so a
 * transaction stays valid through several base-fee rises.
 */
export async function estimateFees(publicClient: PublicClient): Promise<Fees> {
  const { maxFeePerGas, maxPriorityFeePerGas } = await publicClient.estimateFeesPerGas({ type: "eip1559" } as never);
  return { maxFeePerGas, maxPriorityFeePerGas };
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
