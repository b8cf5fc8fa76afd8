import type { Principal } from "../auth/principal.ts";
import type { AppServices } from "../dependencies.ts";
import { submitMoneyMovement, type MoneyMovement } from "../movements/submit-money-movement.ts";
import { CaptureExceedsHeldError, PaymentStateError } from "./errors.ts";
import { loadPaymentForMerchant } from "./paid-payment.ts";
import { relayTerms } from "./payment-terms.ts";
import { pendingTotal } from "./pending-payment-movements.ts";

export type CapturePaymentInput = {
  principal: Principal;
  paymentRequestId: string;
  amount: bigint;
  idempotencyKey: string;
};

/**
 * The merchant captures `amount` of what its payment holds to its wallet (operator-sent
 * `escrow.capture`), through the money door. Partial captures may follow each other; captures not
 * yet on chain count against `held`.
 * @throws CaptureExceedsHeldError CAPTURE_EXCEEDS_HELD, PaymentStateError PAYMENT_AUTHORIZATION_EXPIRED
 */
export async function capturePayment(services: AppServices, input: CapturePaymentInput): Promise<MoneyMovement> {
  const { payment, wallet } = await loadPaymentForMerchant(services, input.principal, input.paymentRequestId);
  return submitMoneyMovement(services, {
    kind: "payment.capture",
    userId: input.principal.userId,
    walletId: wallet.id,
    token: services.contracts.stablecoin,
    from: services.contracts.paymentEscrow,
    to: payment.terms.merchant,
    amount: input.amount,
    idempotencyKey: input.idempotencyKey,
    prepare: async () => {
      if (payment.chainTime >= BigInt(payment.terms.authorizationExpiry)) {
        throw new PaymentStateError(
          "PAYMENT_AUTHORIZATION_EXPIRED",
          "The authorization has expired: nothing can be captured any more (the payer may reclaim)",
        );
      }
      const available = payment.state.held - pendingTotal(payment.pending, "payment.capture");
      if (input.amount > available) throw new CaptureExceedsHeldError(available < 0n ? 0n : available, input.amount);
      return {
        request: {
          kind: "escrow.capture" as const,
          terms: relayTerms(payment.terms),
          amount: input.amount.toString(),
          feeBps: payment.terms.minFeeBps,
        },
        reference: `${payment.paymentId}.capture.${crypto.randomUUID()}`,
        details: { paymentRequestId: payment.paymentRequest.id, paymentId: payment.paymentId },
      };
    },
  });
}
