/**
 * PaymentEscrow's `PaymentTerms` (escrow domain "PaymentEscrow", "1"): their EIP-712 hash is the
 * payment id, which is also the nonce of the payer's ReceiveWithAuthorization — so one signature
 * funds one payment — and the root of every refund's nonce. Pure functions, exactly as the contract
 * computes them (`getPaymentId`, `getRefundNonce`).
 */
import { encodeAbiParameters, keccak256, type Address, type Hex } from "viem";

import { typedDataDigest } from "./typed-data-digest.ts";

export const paymentTermsTypes = {
  PaymentTerms: [
    { name: "operator", type: "address" },
    { name: "payer", type: "address" },
    { name: "merchant", type: "address" },
    { name: "token", type: "address" },
    { name: "maxAmount", type: "uint256" },
    { name: "authorizationExpiry", type: "uint48" },
    { name: "refundExpiry", type: "uint48" },
    { name: "minFeeBps", type: "uint16" },
    { name: "maxFeeBps", type: "uint16" },
    { name: "feeReceiver", type: "address" },
    { name: "salt", type: "uint256" },
  ],
} as const;

export type PaymentTermsMessage = {
  operator: Address;
  payer: Address;
  merchant: Address;
  token: Address;
  maxAmount: bigint;
  authorizationExpiry: number;
  refundExpiry: number;
  minFeeBps: number;
  maxFeeBps: number;
  feeReceiver: Address;
  salt: bigint;
};

/** The escrow's payment id of `terms`: their EIP-712 hash under ("PaymentEscrow", "1", chain, escrow). */
export function paymentIdOf(terms: PaymentTermsMessage, chainId: number, escrow: Address): Hex {
  return typedDataDigest({
    domain: { name: "PaymentEscrow", version: "1", chainId, verifyingContract: escrow },
    types: paymentTermsTypes,
    primaryType: "PaymentTerms",
    message: terms,
  });
}

/** The EIP-3009 nonce a refunder signs to refund payment `paymentId` with `refundSalt`: keccak256(abi.encode(id, salt)). */
export function refundNonceOf(paymentId: Hex, refundSalt: Hex): Hex {
  return keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "bytes32" }], [paymentId, refundSalt]));
}
