import { keccak256, toHex, type Address, type Hex } from "viem";

import type { Eip3009Authorization } from "../../lib/signing/eip3009-fields.ts";
import { refundNonceOf } from "../../lib/signing/payment-terms.ts";
import {
  receiveWithAuthorizationTypedData,
  signReceiveWithAuthorization,
} from "../../lib/signing/receive-with-authorization.ts";
import type { Principal } from "../auth/principal.ts";
import type { AppServices } from "../dependencies.ts";
import { checkReceiveAuthorization } from "../movements/check-authorization.ts";
import { submitMoneyMovement, type MoneyMovement } from "../movements/submit-money-movement.ts";
import { walletSigner } from "../wallets/wallet-signer.ts";
import { PaymentStateError, PaymentWalletError, RefundExceedsCapturedError } from "./errors.ts";
import { loadPaymentForMerchant, type PaidPayment } from "./paid-payment.ts";
import { relayTerms } from "./payment-terms.ts";
import { pendingTotal } from "./pending-payment-movements.ts";

export type RefundPaymentInput = {
  principal: Principal;
  paymentRequestId: string;
  amount: bigint;
  /** A self-custody merchant's signature of the typed data from GET …/refunds/typed-data. */
  signed?: SignedRefund | undefined;
  idempotencyKey: string;
};

/** A self-custody merchant's signed ReceiveWithAuthorization of the refund, and the salt its nonce was derived from. */
export type SignedRefund = { refundSalt: Hex; validAfter: bigint; validBefore: bigint; signature: Hex };

/** @throws REFUND_EXPIRED, RefundExceedsCapturedError */
function assertRefundable(payment: PaidPayment, amount: bigint): void {
  if (payment.chainTime >= BigInt(payment.terms.refundExpiry)) {
    throw new PaymentStateError("REFUND_EXPIRED", "The refund window of this payment has closed");
  }
  const refundable = payment.state.captured - payment.state.refunded - pendingTotal(payment.pending, "payment.refund");
  if (amount > refundable) throw new RefundExceedsCapturedError(refundable < 0n ? 0n : refundable, amount);
}

/**
 * The refund authorization the API proposes: the merchant's EIP-3009 ReceiveWithAuthorization of
 * `amount` to the escrow, nonce = getRefundNonce(payment id, refundSalt), valid from now for the
 * authorization TTL but never past the refund expiry.
 */
function refundAuthorization(
  services: AppServices,
  payment: PaidPayment,
  merchant: Address,
  amount: bigint,
  refundSalt: Hex,
): Eip3009Authorization {
  const ttlEnd = payment.chainTime + BigInt(services.settings.authorizationTtlSeconds);
  const refundExpiry = BigInt(payment.terms.refundExpiry);
  return {
    from: merchant,
    to: services.contracts.paymentEscrow,
    value: amount,
    validAfter: 0n,
    validBefore: ttlEnd < refundExpiry ? ttlEnd : refundExpiry,
    nonce: refundNonceOf(payment.paymentId, refundSalt),
  };
}

/**
 * What a self-custody merchant signs to refund `amount` (GET …/refunds/typed-data): one EIP-3009
 * ReceiveWithAuthorization bound to this refund of this payment, and the random salt to send back.
 * @throws PaymentWalletError WALLET_IS_CUSTODIAL, and what assertRefundable throws
 */
export async function refundTypedData(
  services: AppServices,
  input: { principal: Principal; paymentRequestId: string; amount: bigint },
) {
  const { payment, wallet } = await loadPaymentForMerchant(services, input.principal, input.paymentRequestId);
  if (wallet.kind !== "self_custody") {
    throw new PaymentWalletError("WALLET_IS_CUSTODIAL", "This is a custodial wallet: POST …/refunds with {amount}");
  }
  assertRefundable(payment, input.amount);
  const refundSalt = toHex(crypto.getRandomValues(new Uint8Array(32)));
  const authorization = refundAuthorization(services, payment, wallet.address as Address, input.amount, refundSalt);
  return {
    refundSalt,
    authorization: receiveWithAuthorizationTypedData(await services.tokenReads.domain(), authorization),
  };
}

/**
 * Refunds captured funds to the payer from the merchant's own wallet, in one relay through the money
 * door: `PaymentEscrow.refundWithAuthorization`, which pulls the merchant's EIP-3009 authorization
 * into the escrow and pays the payer in the same transaction — no allowance stands at any moment,
 * so nobody can take one (review finding C-1). The authorization's nonce is derived from the payment
 * id and a refund salt, so it can pay nothing but this refund. Signed here with a custodial
 * merchant's signer (the salt derived from the Idempotency-Key, so a retry signs the same nonce and
 * can never refund twice), or signed by a self-custody merchant and checked (signer, window, nonce
 * unused) before anything is queued.
 * @throws RefundExceedsCapturedError, PaymentStateError REFUND_EXPIRED, wallet-kind and signature errors
 */
export async function refundPayment(services: AppServices, input: RefundPaymentInput): Promise<MoneyMovement> {
  const { payment, wallet } = await loadPaymentForMerchant(services, input.principal, input.paymentRequestId);
  const merchant = wallet.address as Address;
  const signer = walletSigner(services, wallet, input.signed !== undefined, {
    custodial: "POST …/refunds with {amount}",
    selfCustody: "sign the typed data from GET …/refunds/typed-data and send it",
  });
  assertRefundable(payment, input.amount);

  return submitMoneyMovement(services, {
    kind: "payment.refund",
    userId: input.principal.userId,
    walletId: wallet.id,
    token: services.contracts.stablecoin,
    from: merchant,
    to: payment.payer,
    amount: input.amount,
    idempotencyKey: input.idempotencyKey,
    prepare: async () => {
      const { signed } = input;
      const refundSalt =
        signed?.refundSalt ?? keccak256(toHex(`refund:${input.principal.userId}:${input.idempotencyKey}`));
      const proposed = refundAuthorization(services, payment, merchant, input.amount, refundSalt);
      const authorization = signed
        ? { ...proposed, validAfter: signed.validAfter, validBefore: signed.validBefore }
        : proposed;
      const signature =
        signed?.signature ??
        (await signReceiveWithAuthorization(signer!, await services.tokenReads.domain(), authorization));
      await checkReceiveAuthorization(services.tokenReads, authorization, signature);
      return {
        request: {
          kind: "escrow.refundWithAuthorization" as const,
          terms: relayTerms(payment.terms),
          amount: input.amount.toString(),
          refunder: merchant,
          validAfter: authorization.validAfter.toString(),
          validBefore: authorization.validBefore.toString(),
          refundSalt,
          signature,
        },
        reference: `${payment.paymentId}.refund.${refundSalt}`,
        deadline: new Date(Number(authorization.validBefore) * 1000),
        details: { paymentRequestId: payment.paymentRequest.id, paymentId: payment.paymentId, refundSalt },
      };
    },
  });
}
