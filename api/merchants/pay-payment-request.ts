import { and, eq, or } from "drizzle-orm";
import type { Address, Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { paymentRequests, type wallets } from "../db/schema.ts";
import type { AppServices } from "../dependencies.ts";
import { submitMoneyMovement, type MoneyMovement } from "../money/submit-money-movement.ts";
import { custodialKeyOf } from "./custodial-key.ts";
import { PaymentStateError, PaymentWalletError } from "./errors.ts";
import type { PaymentRequestRow } from "./load-payment-request.ts";
import { paymentIdOf, relayTerms, type StoredPaymentTerms } from "./payment-terms.ts";
import {
  receiveAuthorizationTypedData,
  verifyReceiveAuthorization,
  type ReceiveAuthorization,
} from "./receive-authorization.ts";

/** A self-custody payer's signed ReceiveWithAuthorization (the typed data from GET …/typed-data). */
export type PayerSignature = { validAfter: bigint; validBefore: bigint; signature: Hex };

export type PayPaymentRequestInput = {
  paymentRequest: PaymentRequestRow;
  payerUserId: string;
  wallet: typeof wallets.$inferSelect;
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
 * Pays a payment request from the payer's wallet through the money door: authorize (capture later)
 * or charge (authorize + capture), funded by the payer's EIP-3009 ReceiveWithAuthorization to the
 * escrow with nonce = payment id — signed here for a custodial wallet, verified (signer, window,
 * nonce unused; balance by the door's policy) for a self-custody one. The request is marked paid
 * by this payer only after every check passed.
 */
export async function payPaymentRequest(services: AppServices, input: PayPaymentRequestInput): Promise<MoneyMovement> {
  const { paymentRequest, wallet } = input;
  const payer = wallet.address as Address;
  if (paymentRequest.status !== "open" && paymentRequest.payerWalletId !== wallet.id) {
    throw new PaymentStateError("PAYMENT_REQUEST_ALREADY_PAID", "This payment request was already paid");
  }
  if (input.signed && wallet.kind !== "self_custody") {
    throw new PaymentWalletError("WALLET_IS_CUSTODIAL", "This is a custodial wallet; send only {walletId}");
  }
  if (!input.signed && wallet.kind !== "custodial") {
    throw new PaymentWalletError(
      "SIGNATURE_REQUIRED",
      "This is a self-custody wallet: sign the typed data from GET …/typed-data and send it",
    );
  }
  const { terms, paymentId } = termsForPayer(services, paymentRequest, payer);
  const window = await authorizationWindow(services, terms);
  if (window.now >= BigInt(terms.authorizationExpiry)) {
    throw new PaymentStateError("PAYMENT_REQUEST_EXPIRED", "This payment request has expired");
  }
  const amount = BigInt(paymentRequest.amount);
  const escrow = services.contracts.paymentEscrow;
  const charge = paymentRequest.captureMode === "charge";

  return submitMoneyMovement(services, {
    kind: charge ? "payment.charge" : "payment.authorize",
    userId: input.payerUserId,
    walletId: wallet.id,
    token: services.contracts.stablecoin,
    from: payer,
    to: escrow,
    amount,
    idempotencyKey: input.idempotencyKey,
    prepare: async () => {
      let authorization: ReceiveAuthorization;
      let signature: Hex;
      if (input.signed) {
        authorization = { from: payer, to: escrow, value: amount, nonce: paymentId, ...input.signed };
        signature = input.signed.signature;
      } else {
        authorization = {
          from: payer,
          to: escrow,
          value: amount,
          nonce: paymentId,
          validAfter: window.validAfter,
          validBefore: window.validBefore,
        };
        const account = privateKeyToAccount(custodialKeyOf(services, wallet, "Paying"));
        signature = await account.signTypedData(
          receiveAuthorizationTypedData(await services.tokenReads.domain(), authorization),
        );
      }
      await verifyReceiveAuthorization(services.tokenReads, authorization, signature);
      const claimed = await services.database.db
        .update(paymentRequests)
        .set({ status: "paid", terms, paymentId, payerUserId: input.payerUserId, payerWalletId: wallet.id })
        .where(
          and(
            eq(paymentRequests.id, paymentRequest.id),
            or(eq(paymentRequests.status, "open"), eq(paymentRequests.payerWalletId, wallet.id)),
          ),
        )
        .returning({ id: paymentRequests.id });
      if (claimed.length === 0) {
        throw new PaymentStateError("PAYMENT_REQUEST_ALREADY_PAID", "This payment request was already paid");
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
