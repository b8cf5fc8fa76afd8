import type { Address, Hex } from "viem";

import type { AppServices } from "../dependencies.ts";
import { PaymentStateError } from "./errors.ts";
import { readEscrowPayment, type EscrowPaymentState } from "./escrow-reads.ts";
import type { PaymentRequestRow } from "./load-payment-request.ts";
import type { StoredPaymentTerms } from "./payment-terms.ts";
import { pendingPaymentMovements, type PendingMovement } from "./pending-movements.ts";

/** A paid payment request with its complete terms, its on-chain state and its unfinished movements. */
export type PaidPayment = {
  paymentRequest: PaymentRequestRow;
  terms: StoredPaymentTerms;
  paymentId: Hex;
  payer: Address;
  state: EscrowPaymentState;
  pending: PendingMovement[];
  chainTime: bigint;
};

/**
 * Reads what a merchant or payer action on a payment needs: the escrow's state now (authoritative)
 * and the movements still in the relayer.
 * @throws PaymentStateError PAYMENT_NOT_AUTHORIZED while nobody has paid the request
 */
export async function loadPaidPayment(services: AppServices, paymentRequest: PaymentRequestRow): Promise<PaidPayment> {
  if (paymentRequest.status !== "paid" || !paymentRequest.paymentId) {
    throw new PaymentStateError("PAYMENT_NOT_AUTHORIZED", "Nobody has paid this payment request yet");
  }
  const paymentId = paymentRequest.paymentId as Hex;
  const [state, pending, chainTime] = await Promise.all([
    readEscrowPayment(services.publicClient, services.contracts.paymentEscrow, paymentId),
    pendingPaymentMovements(services, paymentRequest.id),
    services.tokenReads.chainTime(),
  ]);
  return {
    paymentRequest,
    terms: paymentRequest.terms,
    paymentId,
    payer: paymentRequest.terms.payer,
    state,
    pending,
    chainTime,
  };
}
