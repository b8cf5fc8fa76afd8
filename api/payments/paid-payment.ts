import type { Address, Hex } from "viem";

import type { Principal } from "../auth/principal.ts";
import type { AppServices } from "../dependencies.ts";
import { loadOwnedWallet } from "../wallets/load-owned-wallet.ts";
import { PaymentStateError } from "./errors.ts";
import { readEscrowPayment, type EscrowPaymentState } from "./escrow-reads.ts";
import { loadPaymentRequest, type PaymentRequestRow } from "./load-payment-request.ts";
import type { StoredPaymentTerms } from "./payment-terms.ts";
import type { DescribedMovement } from "../movements/describe-movements.ts";
import { pendingPaymentMovements } from "./pending-payment-movements.ts";

/** A paid payment request with its complete terms, its on-chain state and its unfinished movements. */
export type PaidPayment = {
  paymentRequest: PaymentRequestRow;
  terms: StoredPaymentTerms;
  paymentId: Hex;
  payer: Address;
  state: EscrowPaymentState;
  pending: DescribedMovement[];
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

/**
 * What a merchant's action on its payment needs: the paid payment and the merchant's wallet, which
 * only the merchant may move money for (another merchant gets 404).
 */
export async function loadPaymentForMerchant(services: AppServices, principal: Principal, paymentRequestId: string) {
  const row = await loadPaymentRequest(services.database, principal, paymentRequestId, "merchant");
  const wallet = await loadOwnedWallet(services.database, principal, row.merchantWalletId, { write: true });
  return { payment: await loadPaidPayment(services, row), wallet };
}

/**
 * What a payer's action on its payment needs: the paid payment and the payer's wallet.
 * @throws PaymentStateError PAYMENT_NOT_AUTHORIZED while nobody has paid the request
 */
export async function loadPaymentForPayer(services: AppServices, principal: Principal, paymentRequestId: string) {
  const row = await loadPaymentRequest(services.database, principal, paymentRequestId, "payer");
  if (!row.payerWalletId)
    throw new PaymentStateError("PAYMENT_NOT_AUTHORIZED", "Nobody has paid this payment request yet");
  const wallet = await loadOwnedWallet(services.database, principal, row.payerWalletId, { write: true });
  return { payment: await loadPaidPayment(services, row), wallet };
}
