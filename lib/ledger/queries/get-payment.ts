import { and, asc, eq } from "drizzle-orm";
import type { Hex } from "viem";

import type { Database } from "../../db/database.ts";
import { rowToPaymentState } from "../payment-state.ts";
import { escrowPaymentStates } from "../schema.ts";
import type { PaymentState } from "../types.ts";

export type GetPaymentParameters = { chainId: number; paymentId: Hex };

export type Payment = {
  /** The payment's current state (after its latest indexed event). */
  state: PaymentState;
  /** The state after each of its events, oldest first. */
  history: PaymentState[];
};

/**
 * An escrow payment's state (held, captured, refunded, status, terms) and its history.
 * @returns the payment, or `undefined` when no event of it is indexed
 */
export async function getPayment(
  database: Database,
  { chainId, paymentId }: GetPaymentParameters,
): Promise<Payment | undefined> {
  const rows = await database.db
    .select()
    .from(escrowPaymentStates)
    .where(and(eq(escrowPaymentStates.chainId, chainId), eq(escrowPaymentStates.paymentId, paymentId.toLowerCase())))
    .orderBy(asc(escrowPaymentStates.blockNumber), asc(escrowPaymentStates.logIndex));
  if (rows.length === 0) return undefined;
  const history = rows.map(rowToPaymentState);
  return { state: history[history.length - 1]!, history };
}
