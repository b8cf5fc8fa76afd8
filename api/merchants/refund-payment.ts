import { keccak256, toHex, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import type { wallets } from "../db/schema.ts";
import type { AppServices } from "../dependencies.ts";
import { submitMoneyMovement, type MoneyMovement } from "../money/submit-money-movement.ts";
import { custodialKeyOf } from "./custodial-key.ts";
import { PaymentStateError, PaymentWalletError, RefundExceedsCapturedError } from "./errors.ts";
import type { PaidPayment } from "./paid-payment.ts";
import { refundNonceOf, relayTerms } from "./payment-terms.ts";
import { pendingTotal } from "./pending-movements.ts";
import {
  receiveAuthorizationTypedData,
  verifyReceiveAuthorization,
  type ReceiveAuthorization,
} from "./receive-authorization.ts";

export type RefundPaymentParameters = {
  payment: PaidPayment;
  merchantUserId: string;
  wallet: typeof wallets.$inferSelect;
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
): ReceiveAuthorization {
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

/** A fresh random refund salt (self-custody merchants send it back with their signature). */
function randomRefundSalt(): Hex {
  return toHex(crypto.getRandomValues(new Uint8Array(32)));
}

/**
 * What a self-custody merchant signs to refund `amount` (GET …/refunds/typed-data): one EIP-3009
 * ReceiveWithAuthorization bound to this refund of this payment, and the salt to send back with it.
 */
export async function refundTypedData(
  services: AppServices,
  payment: PaidPayment,
  wallet: typeof wallets.$inferSelect,
  amount: bigint,
) {
  if (wallet.kind !== "self_custody") {
    throw new PaymentWalletError("WALLET_IS_CUSTODIAL", "This is a custodial wallet: POST …/refunds with {amount}");
  }
  assertRefundable(payment, amount);
  const refundSalt = randomRefundSalt();
  const authorization = refundAuthorization(services, payment, wallet.address as Address, amount, refundSalt);
  return {
    refundSalt,
    authorization: receiveAuthorizationTypedData(await services.tokenReads.domain(), authorization),
  };
}

/**
 * Refunds captured funds to the payer from the merchant's own wallet, in one relay through the money
 * door: `PaymentEscrow.refundWithAuthorization`, which pulls the merchant's EIP-3009 authorization
 * into the escrow and pays the payer in the same transaction — no allowance stands at any moment,
 * so nobody can take one (review finding C-1). The authorization's nonce is derived from the payment
 * id and a refund salt, so it can pay nothing but this refund. Signed here with a custodial
 * merchant's key (the salt derived from the Idempotency-Key, so a retry signs the same nonce and can
 * never refund twice), or signed by a self-custody merchant and verified (signer, window, nonce
 * unused) before anything is queued.
 * @throws RefundExceedsCapturedError, PaymentStateError REFUND_EXPIRED, signature errors
 */
export async function refundPayment(services: AppServices, p: RefundPaymentParameters): Promise<MoneyMovement> {
  const { payment, wallet, signed } = p;
  const merchant = wallet.address as Address;
  if (signed && wallet.kind !== "self_custody") {
    throw new PaymentWalletError("WALLET_IS_CUSTODIAL", "This is a custodial wallet: POST …/refunds with {amount}");
  }
  if (!signed && wallet.kind !== "custodial") {
    throw new PaymentWalletError(
      "SIGNATURE_REQUIRED",
      "This is a self-custody wallet: sign the typed data from GET …/refunds/typed-data and send it",
    );
  }
  assertRefundable(payment, p.amount);

  return submitMoneyMovement(services, {
    kind: "payment.refund",
    userId: p.merchantUserId,
    walletId: wallet.id,
    token: services.contracts.stablecoin,
    from: merchant,
    to: payment.payer,
    amount: p.amount,
    idempotencyKey: p.idempotencyKey,
    prepare: async () => {
      const refundSalt = signed?.refundSalt ?? keccak256(toHex(`refund:${p.merchantUserId}:${p.idempotencyKey}`));
      const proposed = refundAuthorization(services, payment, merchant, p.amount, refundSalt);
      const authorization = signed
        ? { ...proposed, validAfter: signed.validAfter, validBefore: signed.validBefore }
        : proposed;
      const signature =
        signed?.signature ??
        (await privateKeyToAccount(custodialKeyOf(services, wallet, "A refund without a signature")).signTypedData(
          receiveAuthorizationTypedData(await services.tokenReads.domain(), authorization),
        ));
      await verifyReceiveAuthorization(services.tokenReads, authorization, signature);
      return {
        request: {
          kind: "escrow.refundWithAuthorization" as const,
          terms: relayTerms(payment.terms),
          amount: p.amount.toString(),
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
