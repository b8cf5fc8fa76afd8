/**
 * Failure reasons of the x402 `exact` EVM scheme, character for character as the official SDK's
 * facilitator names them (@x402/evm exact/facilitator errors, kept identical to the Go SDK), and the
 * protocol's own (specs/x402-specification-v2.md §9). A client or resource server that knows the
 * reference facilitator understands ours.
 */
export const X402Reason = {
  invalidX402Version: "invalid_x402_version",
  invalidPayload: "invalid_payload",
  invalidPaymentRequirements: "invalid_payment_requirements",
  unsupportedScheme: "unsupported_scheme",
  invalidNetwork: "invalid_network",
  unsupportedPayloadType: "unsupported_payload_type",
  schemeMismatch: "invalid_exact_evm_scheme",
  networkMismatch: "invalid_exact_evm_network_mismatch",
  missingEip712Domain: "invalid_exact_evm_missing_eip712_domain",
  tokenNameMismatch: "invalid_exact_evm_token_name_mismatch",
  tokenVersionMismatch: "invalid_exact_evm_token_version_mismatch",
  recipientMismatch: "invalid_exact_evm_recipient_mismatch",
  valueMismatch: "invalid_exact_evm_payload_authorization_value_mismatch",
  invalidSignature: "invalid_exact_evm_signature",
  validBefore: "invalid_exact_evm_payload_authorization_valid_before",
  validAfter: "invalid_exact_evm_payload_authorization_valid_after",
  nonceUsed: "invalid_exact_evm_nonce_already_used",
  insufficientBalance: "invalid_exact_evm_insufficient_balance",
  simulationFailed: "invalid_exact_evm_transaction_simulation_failed",
  transactionFailed: "invalid_exact_evm_transaction_failed",
  settlementPending: "settlement_pending",
  /** Ours: the payer or the recipient is frozen on the token, or the merchant's account in the API. */
  accountFrozen: "account_frozen",
  /** Ours: payTo is not a wallet of the merchant whose API key calls. */
  payToNotYours: "pay_to_not_merchant_wallet",
  /** Ours (payment-identifier extension): the same id came with another payment. */
  paymentIdentifierConflict: "payment_identifier_conflict",
} as const;
export type X402ReasonCode = (typeof X402Reason)[keyof typeof X402Reason];

/** A refusal: the reason code, and a sentence a person can act on. */
export class X402Refusal extends Error {
  override name = "X402Refusal";
  /** The payer, once the payload named one. */
  payer?: string | undefined;
  constructor(
    readonly reason: X402ReasonCode | string,
    message: string,
  ) {
    super(message);
  }
}
