import { randomBytes } from "node:crypto";

import { zeroAddress, type Address, type Hex } from "viem";

import { paymentIdOf as paymentIdOfTerms } from "../../lib/signing/payment-terms.ts";
import type { PaymentTermsInput } from "../../relayer/index.ts";

/** PaymentEscrow's PaymentTerms as the API stores them (JSON: decimal strings, checksummed addresses). */
export type StoredPaymentTerms = {
  operator: Address;
  payer: Address;
  merchant: Address;
  token: Address;
  maxAmount: string;
  authorizationExpiry: number;
  refundExpiry: number;
  minFeeBps: number;
  maxFeeBps: number;
  feeReceiver: Address;
  salt: string;
};

export type NewPaymentTermsParameters = {
  operator: Address;
  merchant: Address;
  token: Address;
  amount: bigint;
  authorizationExpiry: number;
  refundExpiry: number;
  /** The platform fee (API_PAYMENT_FEE_BPS) taken from every capture; none when absent. */
  fee?: { bps: number; receiver: Address } | undefined;
};

/**
 * The terms the API fixes for a new payment request: the relayer's operator, the merchant's wallet,
 * the token, `maxAmount` = the requested amount, the expiries, the platform fee as both fee bounds
 * (so every capture takes exactly it; none when unset) and a random salt. The payer stays the zero
 * address until paid.
 */
export function newPaymentTerms(p: NewPaymentTermsParameters): StoredPaymentTerms {
  return {
    operator: p.operator,
    payer: zeroAddress,
    merchant: p.merchant,
    token: p.token,
    maxAmount: p.amount.toString(),
    authorizationExpiry: p.authorizationExpiry,
    refundExpiry: p.refundExpiry,
    minFeeBps: p.fee?.bps ?? 0,
    maxFeeBps: p.fee?.bps ?? 0,
    feeReceiver: p.fee?.receiver ?? zeroAddress,
    salt: BigInt(`0x${randomBytes(32).toString("hex")}`).toString(),
  };
}

/**
 * The escrow's payment id of complete terms: the EIP-712 hash under ("PaymentEscrow", "1", chain, escrow),
 * exactly `PaymentEscrow.getPaymentId`. Pure.
 */
export function paymentIdOf(terms: StoredPaymentTerms, chainId: number, escrow: Address): Hex {
  return paymentIdOfTerms(abiTerms(terms), chainId, escrow);
}

/** The terms as the relay request schema takes them. */
export function relayTerms(terms: StoredPaymentTerms): PaymentTermsInput {
  return { ...terms };
}

/** The terms as the escrow's ABI takes them (bigints). */
export function abiTerms(terms: StoredPaymentTerms) {
  return { ...terms, maxAmount: BigInt(terms.maxAmount), salt: BigInt(terms.salt) };
}
