import type { Hex } from "viem";

import { getPayment } from "../../lib/ledger/queries/get-payment.ts";
import type { AppServices } from "../dependencies.ts";
import type { PaymentRequestRow } from "./load-payment-request.ts";
import { pendingPaymentMovements } from "./pending-payment-movements.ts";

/**
 * A payment request as the API shows it: the request and its terms, the escrow payment's state and
 * history from the ledger (indexed escrow events), and the movements not yet in the ledger as pending.
 */
export async function paymentView(services: AppServices, row: PaymentRequestRow) {
  const ledger = row.paymentId
    ? await getPayment(services.database, { chainId: services.chainId, paymentId: row.paymentId as Hex })
    : undefined;
  const pending = await pendingPaymentMovements(services, row.id);
  const stateOf = (s: NonNullable<typeof ledger>["state"]) => ({
    event: s.event,
    status: s.status,
    held: s.held.toString(),
    captured: s.captured.toString(),
    refunded: s.refunded.toString(),
    blockNumber: s.blockNumber.toString(),
    transactionHash: s.transactionHash,
  });
  return {
    id: row.id,
    merchantWalletId: row.merchantWalletId,
    reference: row.reference,
    amount: row.amount,
    captureMode: row.captureMode,
    status: row.status,
    paymentId: row.paymentId,
    payerWalletId: row.payerWalletId,
    expiresAt: row.terms.authorizationExpiry,
    refundExpiresAt: row.terms.refundExpiry,
    terms: row.terms,
    payment: ledger ? stateOf(ledger.state) : null,
    history: ledger ? ledger.history.map(stateOf) : [],
    pending: pending.map((m) => ({
      id: m.id,
      kind: m.kind,
      amount: m.amount,
      status: m.status,
      relayId: m.relayId,
      transactionHash: m.transactionHash,
    })),
    createdAt: row.createdAt,
  };
}

/**
 * What any user sees of an open payment request that is not theirs: a payment link is meant to be
 * shared, so a would-be payer reads what it takes to decide and to pay (amount, reference, mode,
 * expiries, the escrow terms a self-custody wallet signs) — not the merchant's wallet id, nor the
 * escrow's state, history or movements, which are the merchant's and the payer's business.
 * @param row - an open request, loaded with access "read"
 */
export function paymentLinkView(row: PaymentRequestRow) {
  return {
    id: row.id,
    reference: row.reference,
    amount: row.amount,
    captureMode: row.captureMode,
    status: row.status,
    expiresAt: row.terms.authorizationExpiry,
    refundExpiresAt: row.terms.refundExpiry,
    terms: row.terms,
    createdAt: row.createdAt,
  };
}
