import type { Address } from "viem";

import type { wallets } from "../db/schema.ts";
import type { AppServices } from "../dependencies.ts";
import { submitMoneyMovement, type MoneyMovement } from "../money/submit-money-movement.ts";
import { CaptureExceedsHeldError, PaymentStateError } from "./errors.ts";
import type { PaidPayment } from "./paid-payment.ts";
import { relayTerms } from "./payment-terms.ts";
import { pendingTotal } from "./pending-movements.ts";

/**
 * Captures `amount` of what the payment holds to the merchant (operator-sent `escrow.capture`), through
 * the money door. Partial captures may follow each other; pending captures count against `held`.
 * @throws CaptureExceedsHeldError CAPTURE_EXCEEDS_HELD, PaymentStateError PAYMENT_AUTHORIZATION_EXPIRED
 */
export async function capturePayment(
  services: AppServices,
  p: {
    payment: PaidPayment;
    merchantUserId: string;
    wallet: typeof wallets.$inferSelect;
    amount: bigint;
    idempotencyKey: string;
  },
): Promise<MoneyMovement> {
  const { payment } = p;
  return submitMoneyMovement(services, {
    kind: "payment.capture",
    userId: p.merchantUserId,
    walletId: p.wallet.id,
    token: services.contracts.stablecoin,
    from: services.contracts.paymentEscrow,
    to: payment.terms.merchant,
    amount: p.amount,
    idempotencyKey: p.idempotencyKey,
    prepare: async () => {
      if (payment.chainTime >= BigInt(payment.terms.authorizationExpiry)) {
        throw new PaymentStateError(
          "PAYMENT_AUTHORIZATION_EXPIRED",
          "The authorization has expired: nothing can be captured any more (the payer may reclaim)",
        );
      }
      const available = payment.state.held - pendingTotal(payment.pending, "payment.capture");
      if (p.amount > available) throw new CaptureExceedsHeldError(available < 0n ? 0n : available, p.amount);
      return {
        request: {
          kind: "escrow.capture" as const,
          terms: relayTerms(payment.terms),
          amount: p.amount.toString(),
          feeBps: payment.terms.minFeeBps,
        },
        reference: `${payment.paymentId}.capture.${crypto.randomUUID()}`,
        details: { paymentRequestId: payment.paymentRequest.id, paymentId: payment.paymentId },
      };
    },
  });
}

/**
 * Voids the payment on the merchant's request: the operator returns everything held to the payer.
 * @throws PaymentStateError PAYMENT_NOTHING_HELD when nothing is held (or pending captures take it all)
 */
export async function voidPayment(
  services: AppServices,
  p: { payment: PaidPayment; merchantUserId: string; wallet: typeof wallets.$inferSelect; idempotencyKey: string },
): Promise<MoneyMovement> {
  const { payment } = p;
  const held = payment.state.held - pendingTotal(payment.pending, "payment.capture");
  if (held <= 0n || pendingTotal(payment.pending, "payment.void") > 0n) {
    throw new PaymentStateError("PAYMENT_NOTHING_HELD", "The payment holds nothing to void");
  }
  return submitMoneyMovement(services, {
    kind: "payment.void",
    userId: p.merchantUserId,
    walletId: p.wallet.id,
    token: services.contracts.stablecoin,
    from: services.contracts.paymentEscrow,
    to: payment.payer as Address,
    amount: held,
    idempotencyKey: p.idempotencyKey,
    prepare: async () => ({
      request: { kind: "escrow.void" as const, terms: relayTerms(payment.terms) },
      reference: `${payment.paymentId}.void.${crypto.randomUUID()}`,
      details: { paymentRequestId: payment.paymentRequest.id, paymentId: payment.paymentId },
    }),
  });
}
