/**
 * The EIP-712 types of every message Stablerail's contracts verify, in one place, as viem takes them.
 * They must match the contracts' type hashes field for field: the contract tests sign with these and
 * the contracts recover the signer, so a drift fails there.
 */

/** EIP-3009 fields, shared by TransferWithAuthorization and ReceiveWithAuthorization (as USDC defines them). */
const authorizationFields = [
  { name: "from", type: "address" },
  { name: "to", type: "address" },
  { name: "value", type: "uint256" },
  { name: "validAfter", type: "uint256" },
  { name: "validBefore", type: "uint256" },
  { name: "nonce", type: "bytes32" },
] as const;

/** EIP-3009 `transferWithAuthorization` (Stablecoin domain). */
export const transferWithAuthorizationTypes = { TransferWithAuthorization: authorizationFields } as const;

/** EIP-3009 `receiveWithAuthorization`: only `to` may submit it (Stablecoin domain). */
export const receiveWithAuthorizationTypes = { ReceiveWithAuthorization: authorizationFields } as const;

/** OpenZeppelin ERC2771Forwarder's ForwardRequest (StablerailForwarder domain; the signed struct includes the nonce). */
export const forwardRequestTypes = {
  ForwardRequest: [
    { name: "from", type: "address" },
    { name: "to", type: "address" },
    { name: "value", type: "uint256" },
    { name: "gas", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint48" },
    { name: "data", type: "bytes" },
  ],
} as const;

/** PaymentEscrow's PaymentTerms: their hash under the escrow's domain is the payment id. */
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
