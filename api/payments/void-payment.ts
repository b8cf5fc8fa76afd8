import type { Principal } from "../auth/principal.ts";
import type { AppServices } from "../dependencies.ts";
import { submitMoneyMovement, type MoneyMovement } from "../movements/submit-money-movement.ts";
import { PaymentStateError } from "./errors.ts";
import { loadPaymentForMerchant } from "./paid-payment.ts";
import { relayTerms } from "./payment-terms.ts";
import { pendingTotal } from "./pending-payment-movements.ts";

export type VoidPaymentInput = { principal: Principal; paymentRequestId: string; idempotencyKey: string };

/**
 * The merchant voids its payment: the operator returns everything held to the payer.
 * @throws PaymentStateError PAYMENT_NOTHING_HELD when nothing is held (or captures not yet on chain take it all)
 */
export async function voidPayment(services: AppServices, input: VoidPaymentInput): Promise<MoneyMovement> {
  const { payment, wallet } = await loadPaymentForMerchant(services, input.principal, input.paymentRequestId);
  const held = payment.state.held - pendingTotal(payment.pending, "payment.capture");
  if (held <= 0n || pendingTotal(payment.pending, "payment.void") > 0n) {
    throw new PaymentStateError("PAYMENT_NOTHING_HELD", "The payment holds nothing to void");
  }
  return submitMoneyMovement(services, {
    kind: "payment.void",
    userId: input.principal.userId,
    walletId: wallet.id,
    token: services.contracts.stablecoin,
    from: services.contracts.paymentEscrow,
    to: payment.payer,
    amount: held,
    idempotencyKey: input.idempotencyKey,
    prepare: async () => ({
      request: { kind: "escrow.void" as const, terms: relayTerms(payment.terms) },
      reference: `${payment.paymentId}.void.${crypto.randomUUID()}`,
      details: { paymentRequestId: payment.paymentRequest.id, paymentId: payment.paymentId },
    }),
  });
}
