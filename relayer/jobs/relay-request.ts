import { getAddress, isAddress, isHex, type Address, type Hex } from "viem";
import { z } from "zod";

/**
 * The relay requests the API produces and the workers consume, as one zod discriminated union
 * on `kind`: the single schema gives both the TypeScript type and the validation on both sides
 * of the queue. Amounts and times are decimal strings (JSON carries no bigint); signatures are
 * user signatures, never keys — no secrets travel in job data.
 */
export const addressSchema = z
  .string()
  .refine((value) => isAddress(value, { strict: false }), "must be a 0x-prefixed 20-byte address")
  .transform((value) => getAddress(value) as Address);
export const uintSchema = z.string().regex(/^(0|[1-9]\d{0,77})$/, "must be a whole number as a decimal string");
export const hexSchema = z
  .string()
  .refine((value) => isHex(value), "must be 0x-prefixed hex")
  .transform((value) => value as Hex);
export const bytes32Schema = z
  .string()
  .refine((value) => isHex(value) && value.length === 66, "must be 32 bytes of hex")
  .transform((value) => value as Hex);
const feeBpsSchema = z.number().int().min(0).max(10_000);

/** PaymentEscrow's PaymentTerms (docs/design/contracts.md). */
export const paymentTermsSchema = z.object({
  operator: addressSchema,
  payer: addressSchema,
  merchant: addressSchema,
  token: addressSchema,
  maxAmount: uintSchema,
  authorizationExpiry: z.number().int().nonnegative(),
  refundExpiry: z.number().int().nonnegative(),
  minFeeBps: feeBpsSchema,
  maxFeeBps: feeBpsSchema,
  feeReceiver: addressSchema,
  salt: uintSchema,
});
export type PaymentTermsInput = z.output<typeof paymentTermsSchema>;

/**
 * How an escrow payment is funded: only by the payer's EIP-3009 ReceiveWithAuthorization whose nonce
 * is the payment id — a signature bound to the terms. The escrow's allowance forms need the payer's
 * on-chain pre-approval, which the API never asks for, so the relayer carries none of them.
 */
export const escrowFundingSchema = z.object({
  method: z.literal("authorization"),
  validAfter: uintSchema,
  validBefore: uintSchema,
  signature: hexSchema,
});

export const transferWithAuthorizationSchema = z.object({
  kind: z.literal("token.transferWithAuthorization"),
  token: addressSchema,
  from: addressSchema,
  to: addressSchema,
  value: uintSchema,
  validAfter: uintSchema,
  validBefore: uintSchema,
  nonce: bytes32Schema,
  signature: hexSchema,
});

/** ERC-2771 ForwardRequestData of OpenZeppelin's ERC2771Forwarder, signature included. */
export const forwardRequestSchema = z.object({
  from: addressSchema,
  to: addressSchema,
  value: uintSchema,
  gas: uintSchema,
  deadline: z.number().int().nonnegative(),
  data: hexSchema,
  signature: hexSchema,
});

export const relayRequestSchema = z.discriminatedUnion("kind", [
  transferWithAuthorizationSchema,
  z.object({
    kind: z.literal("escrow.authorize"),
    terms: paymentTermsSchema,
    amount: uintSchema,
    funding: escrowFundingSchema,
  }),
  z.object({
    kind: z.literal("escrow.charge"),
    terms: paymentTermsSchema,
    amount: uintSchema,
    feeBps: feeBpsSchema.default(0),
    funding: escrowFundingSchema,
  }),
  z.object({ kind: z.literal("escrow.capture"), terms: paymentTermsSchema, amount: uintSchema, feeBps: feeBpsSchema }),
  z.object({ kind: z.literal("escrow.void"), terms: paymentTermsSchema }),
  /** A refunder's EIP-3009 authorization bound to this refund (anyone may submit it; it pays only the payer). */
  z.object({
    kind: z.literal("escrow.refundWithAuthorization"),
    terms: paymentTermsSchema,
    amount: uintSchema,
    refunder: addressSchema,
    validAfter: uintSchema,
    validBefore: uintSchema,
    refundSalt: bytes32Schema,
    signature: hexSchema,
  }),
  z.object({ kind: z.literal("forwarder.execute"), request: forwardRequestSchema }),
  z.object({
    kind: z.literal("settlement.payout"),
    batchId: bytes32Schema,
    token: addressSchema,
    items: z
      .array(z.object({ merchant: addressSchema, amount: uintSchema, payoutReference: bytes32Schema }))
      .min(1)
      .max(500),
  }),
]);

/** A validated relay request (output of {@link relayRequestSchema}). */
export type RelayRequest = z.output<typeof relayRequestSchema>;
/** What a producer passes in (addresses in any case; parsed to checksummed form). */
export type RelayRequestInput = z.input<typeof relayRequestSchema>;
export type RelayKind = RelayRequest["kind"];

/** Kinds that must be sent by the operator key (escrow terms' operator, Settlement's PAYOUT_ROLE). */
export const operatorKinds: ReadonlySet<RelayKind> = new Set([
  "escrow.authorize",
  "escrow.charge",
  "escrow.capture",
  "escrow.void",
  "settlement.payout",
]);
