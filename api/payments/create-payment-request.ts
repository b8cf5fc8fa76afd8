import { and, eq } from "drizzle-orm";
import type { Address } from "viem";

import type { Principal } from "../auth/principal.ts";
import { paymentRequests } from "../db/schema.ts";
import type { AppServices } from "../dependencies.ts";
import { ConflictError } from "../errors/api-errors.ts";
import { loadOwnedWallet } from "../wallets/load-owned-wallet.ts";
import type { PaymentRequestRow } from "./load-payment-request.ts";
import { newPaymentTerms } from "./payment-terms.ts";

export type CreatePaymentRequestInput = {
  principal: Principal;
  /** The merchant's wallet that receives captured funds (its own). */
  walletId: string;
  amount: bigint;
  reference: string;
  /** Seconds from chain time until the payment can no longer be paid or captured (authorizationExpiry). */
  expiresInSeconds: number;
  /** Seconds after the authorization expiry during which captured funds may be refunded. */
  refundWindowSeconds: number;
  captureMode: "authorize" | "charge";
};

/**
 * Creates a payment request with the PaymentEscrow terms the API fixes for it (see newPaymentTerms).
 * Expiries are counted from chain time, as the escrow judges them.
 * @throws ConflictError PAYMENT_REFERENCE_TAKEN when the merchant already used the reference
 */
export async function createPaymentRequest(
  services: Pick<AppServices, "database" | "tokenReads" | "contracts" | "operator" | "settings">,
  input: CreatePaymentRequestInput,
): Promise<PaymentRequestRow> {
  const db = services.database.db;
  const wallet = await loadOwnedWallet(services.database, input.principal, input.walletId, { write: true });
  const merchantUserId = input.principal.userId;
  const [taken] = await db
    .select({ id: paymentRequests.id })
    .from(paymentRequests)
    .where(and(eq(paymentRequests.merchantUserId, merchantUserId), eq(paymentRequests.reference, input.reference)));
  if (taken) {
    throw new ConflictError("PAYMENT_REFERENCE_TAKEN", "You already have a payment request with this reference", {
      details: { paymentRequestId: taken.id },
    });
  }
  const now = Number(await services.tokenReads.chainTime());
  const authorizationExpiry = now + input.expiresInSeconds;
  const terms = newPaymentTerms({
    operator: services.operator,
    merchant: wallet.address as Address,
    token: services.contracts.stablecoin,
    amount: input.amount,
    authorizationExpiry,
    refundExpiry: authorizationExpiry + input.refundWindowSeconds,
    fee: services.settings.paymentFee,
  });
  const [row] = await db
    .insert(paymentRequests)
    .values({
      id: crypto.randomUUID(),
      merchantUserId,
      merchantWalletId: wallet.id,
      reference: input.reference,
      amount: input.amount.toString(),
      captureMode: input.captureMode,
      status: "open",
      terms,
    })
    .returning();
  return row as PaymentRequestRow;
}
