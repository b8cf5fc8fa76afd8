import type { Address, PublicClient } from "viem";

import { settlementAbi } from "../../lib/chain/abis/settlement.ts";

/** Reads the Settlement's per-item gas requirement; the first successful read is kept. */
export type SettlementGasReader = () => Promise<bigint>;

/**
 * Reads `Settlement.authorizationGasRequired()` — the gas `settleAuthorizations` must have left before it
 * attempts an item (its per-item gas limit, the 1/64 the EVM keeps back from a call, and a reserve), plus one
 * unit per signature byte by the contract's rule — once per process.
 *
 * Why the contract's view and not a constant shared with the Ignition module: the per-item limit is a
 * constructor parameter, so a deployment may pick another value, and the reserve is the contract's own
 * constant; the view is the one number that is right for the contract being called. It is immutable, so one
 * read serves the process; a failed read is not kept (the next batch reads again).
 * @param publicClient - the chain
 * @param settlement - the Settlement the batches call
 * @returns a reader; it throws what the node throws
 * @example const gasRequired = createSettlementGasReader(publicClient, contracts.settlement); await gasRequired();
 */
export function createSettlementGasReader(publicClient: PublicClient, settlement: Address): SettlementGasReader {
  let required: Promise<bigint> | undefined;
  return () => {
    required ??= publicClient
      .readContract({ address: settlement, abi: settlementAbi, functionName: "authorizationGasRequired" })
      .catch((error: unknown) => {
        required = undefined;
        throw error;
      });
    return required;
  };
}
