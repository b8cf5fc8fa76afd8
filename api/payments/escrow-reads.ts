import type { Address, Hex, PublicClient } from "viem";

import { paymentEscrowAbi } from "../../lib/chain/abis/paymentEscrow.ts";

/** A payment's state as PaymentEscrow holds it now (authoritative; the ledger may lag by confirmations). */
export type EscrowPaymentState = { held: bigint; captured: bigint; refunded: bigint; status: number };

/** Status values of IPaymentEscrow.Status. */
export const EscrowStatus = { None: 0, Authorized: 1, Captured: 2, Voided: 3, Reclaimed: 4 } as const;

/** Reads `paymentState(paymentId)` from the escrow. */
export async function readEscrowPayment(
  client: PublicClient,
  escrow: Address,
  paymentId: Hex,
): Promise<EscrowPaymentState> {
  const state = await client.readContract({
    address: escrow,
    abi: paymentEscrowAbi,
    functionName: "paymentState",
    args: [paymentId],
  });
  return { held: state.held, captured: state.captured, refunded: state.refunded, status: Number(state.status) };
}
