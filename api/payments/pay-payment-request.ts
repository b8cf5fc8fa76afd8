import { and, eq, ne, or } from "drizzle-orm";
import type { Address, Hex } from "viem";

import type { Eip3009Authorization } from "../../lib/signing/eip3009-fields.ts";
import { signReceiveWithAuthorization } from "../../lib/signing/receive-with-authorization.ts";
import type { Principal } from "../auth/principal.ts";
import { moneyMovements, paymentRequests } from "../db/schema.ts";
import type { AppServices } from "../dependencies.ts";
import { checkReceiveAuthorization } from "../movements/check-authorization.ts";
import { submitMoneyMovement, type MoneyMovement } from "../movements/submit-money-movement.ts";
import { loadOwnedWallet } from "../wallets/load-owned-wallet.ts";
import { walletSigner } from "../wallets/wallet-signer.ts";
import { PaymentStateError } from "./errors.ts";
import { loadPaymentRequest, type PaymentRequestRow } from "./load-payment-request.ts";
import { paymentIdOf, relayTerms, type StoredPaymentTerms } from "./payment-terms.ts";

/** A self-custody payer's signed ReceiveWithAuthorization (the typed data from GET …/typed-data). */
export type PayerSignature = { validAfter: bigint; validBefore: bigint; signature: Hex };

export type PayPaymentRequestInput = {
  principal: Principal;
  paymentRequestId: string;
  walletId: string;
  signed?: PayerSignature | undefined;
  idempotencyKey: string;
};

/** The complete terms once `payer` pays, and their payment id (the EIP-3009 nonce the payer signs). */
export function termsForPayer(
  services: Pick<AppServices, "chainId" | "contracts">,
  paymentRequest: PaymentRequestRow,
  payer: Address,
): { terms: StoredPaymentTerms; paymentId: Hex } {
  const terms = { ...paymentRequest.terms, payer };
  return { terms, paymentId: paymentIdOf(terms, services.chainId, services.contracts.paymentEscrow) };
}

/** The validity window the API proposes for a payer's authorization: from now, at most until the authorization expiry. */
export async function authorizationWindow(
  services: Pick<AppServices, "tokenReads" | "settings">,
  terms: StoredPaymentTerms,
) {
  const now = await services.tokenReads.chainTime();
  const ttlEnd = now + BigInt(services.settings.authorizationTtlSeconds);
  const expiry = BigInt(terms.authorizationExpiry);
  return { now, validAfter: 0n, validBefore: ttlEnd < expiry ? ttlEnd : expiry };
}

/**
 * The payer's authorization to the escrow the API proposes: the request's amount, nonce = the
 * payment id of the terms completed with this payer.
 * @throws PaymentStateError PAYMENT_REQUEST_EXPIRED
 */
export async function payerAuthorization(
  services: Pick<AppServices, "chainId" | "contracts" | "tokenReads" | "settings">,
  paymentRequest: PaymentRequestRow,
  payer: Address,
) {
  const { terms, paymentId } = termsForPayer(services, paymentRequest, payer);
  const window = await authorizationWindow(services, terms);
  if (window.now >= BigInt(terms.authorizationExpiry)) {
    throw new PaymentStateError("PAYMENT_REQUEST_EXPIRED", "This payment request has expired");
  }
  const authorization: Eip3009Authorization = {
    from: payer,
    to: services.contracts.paymentEscrow,
    value: BigInt(paymentRequest.amount),
    validAfter: window.validAfter,
    validBefore: window.validBefore,
    nonce: paymentId,
  };
  return { terms, paymentId, authorization };
}

/**
 * Refuses a second payment of the same terms: the payer's authorization with nonce = payment id is
 * already queued (a movement not refused) or used on chain.
 * @throws PaymentStateError PAYMENT_ALREADY_PAID
 */
async function assertNotPaidYet(
  services: Pick<AppServices, "database" | "tokenReads">,
  payer: Address,
  paymentId: Hex,
): Promise<void> {
  const [queued] = await services.database.db
    .select({ id: moneyMovements.id })
    .from(moneyMovements)
    .where(
      and(eq(moneyMovements.from, payer), eq(moneyMovements.nonce, paymentId), ne(moneyMovements.status, "rejected")),
    )
    .limit(1);
  if (queued || (await services.tokenReads.isAuthorizationUsed(payer, paymentId))) {
    throw new PaymentStateError("PAYMENT_ALREADY_PAID", "This payment request was already paid", {
      details: { paymentId },
    });
  }
}

/**
 * Pays a payment request from the payer's wallet through the money door: authorize (capture later)
 * or charge (authorize + capture), funded by the payer's EIP-3009 ReceiveWithAuthorization to the
 * escrow with nonce = payment id — signed here with a custodial wallet's signer, checked (signer,
 * window, nonce unused; balance by the door's policy) for a self-custody one. The request is marked
 * paid by this payer only after every check passed.
 * @throws PaymentStateError PAYMENT_ALREADY_PAID, PAYMENT_REQUEST_EXPIRED, the door's and the signature checks' errors
 */
export async function payPaymentRequest(services: AppServices, input: PayPaymentRequestInput): Promise<MoneyMovement> {
  const paymentRequest = await loadPaymentRequest(services.database, input.principal, input.paymentRequestId, "payer");
  const wallet = await loadOwnedWallet(services.database, input.principal, input.walletId, { write: true });
  const payer = wallet.address as Address;
  if (paymentRequest.status !== "open" && paymentRequest.payerWalletId !== wallet.id) {
    throw new PaymentStateError("PAYMENT_ALREADY_PAID", "This payment request was already paid");
  }
  const signer = walletSigner(services, wallet, input.signed !== undefined, {
    custodial: "send only {walletId}",
    selfCustody: "sign the typed data from GET …/typed-data and send it",
  });
  const proposed = await payerAuthorization(services, paymentRequest, payer);
  const { terms, paymentId } = proposed;
  const amount = BigInt(paymentRequest.amount);
  const charge = paymentRequest.captureMode === "charge";

  return submitMoneyMovement(services, {
    kind: charge ? "payment.charge" : "payment.authorize",
    userId: input.principal.userId,
    walletId: wallet.id,
    token: services.contracts.stablecoin,
    from: payer,
    to: services.contracts.paymentEscrow,
    amount,
    idempotencyKey: input.idempotencyKey,
    prepare: async () => {
      const authorization = input.signed
        ? { ...proposed.authorization, validAfter: input.signed.validAfter, validBefore: input.signed.validBefore }
        : proposed.authorization;
      // Paid already (queued, or on chain): say so at the payment's level, before the nonce's check would.
      await assertNotPaidYet(services, payer, paymentId);
      const signature =
        input.signed?.signature ??
        (await signReceiveWithAuthorization(signer!, await services.tokenReads.domain(), authorization));
      await checkReceiveAuthorization(services.tokenReads, authorization, signature);
      const claimed = await services.database.db
        .update(paymentRequests)
        .set({ status: "paid", terms, paymentId, payerUserId: input.principal.userId, payerWalletId: wallet.id })
        .where(
          and(
            eq(paymentRequests.id, paymentRequest.id),
            or(eq(paymentRequests.status, "open"), eq(paymentRequests.payerWalletId, wallet.id)),
          ),
        )
        .returning({ id: paymentRequests.id });
      if (claimed.length === 0) {
        throw new PaymentStateError("PAYMENT_ALREADY_PAID", "This payment request was already paid");
      }
      const funding = {
        method: "authorization" as const,
        validAfter: authorization.validAfter.toString(),
        validBefore: authorization.validBefore.toString(),
        signature,
      };
      return {
        request: charge
          ? {
              kind: "escrow.charge" as const,
              terms: relayTerms(terms),
              amount: amount.toString(),
              feeBps: terms.minFeeBps,
              funding,
            }
          : { kind: "escrow.authorize" as const, terms: relayTerms(terms), amount: amount.toString(), funding },
        reference: paymentId,
        deadline: new Date(Number(authorization.validBefore) * 1000),
        details: { paymentRequestId: paymentRequest.id, paymentId },
      };
    },
  });
}
