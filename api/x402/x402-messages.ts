/**
 * The x402 v2 messages a facilitator receives and answers (specs/x402-specification-v2.md §5 and §7,
 * specs/schemes/exact/scheme_exact_evm.md), as zod schemas: the one place their shape is written.
 * Loose where the specification lets clients add fields (extensions, extra), exact where it defines
 * them. Amounts stay decimal strings of base units, parsed to bigint by the use cases.
 */
import { z } from "zod";

export const X402_VERSION = 2;

const decimal = z.string().regex(/^(0|[1-9]\d{0,77})$/, "must be a whole number as a decimal string");
const hexAddress = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte address");

/** PaymentRequirements (§5.1.2): what the resource server asks for. */
export const paymentRequirementsSchema = z
  .object({
    scheme: z.string().min(1),
    network: z.string().min(1),
    amount: decimal,
    asset: z.string().min(1),
    payTo: z.string().min(1),
    maxTimeoutSeconds: z.number().int().nonnegative(),
    extra: z.record(z.string(), z.unknown()).optional(),
  })
  .loose();
export type PaymentRequirements = z.output<typeof paymentRequirementsSchema>;

/** The `exact` scheme's EIP-3009 payload (scheme_exact_evm.md §1). */
export const exactEip3009PayloadSchema = z.object({
  signature: z.string().regex(/^0x[0-9a-fA-F]+$/, "must be 0x-prefixed hex"),
  authorization: z.object({
    from: hexAddress,
    to: hexAddress,
    value: decimal,
    validAfter: decimal,
    validBefore: decimal,
    nonce: z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be 32 bytes of hex"),
  }),
});

/** PaymentPayload (§5.2.2): what the client signed, as the resource server forwards it. */
export const paymentPayloadSchema = z
  .object({
    x402Version: z.number().int(),
    resource: z.object({ url: z.string() }).loose().optional(),
    accepted: paymentRequirementsSchema,
    payload: z.record(z.string(), z.unknown()),
    extensions: z.record(z.string(), z.unknown()).optional(),
  })
  .loose();
export type PaymentPayload = z.output<typeof paymentPayloadSchema>;

/** The body of POST /verify and POST /settle (§7.1, §7.2); the inner objects are parsed by the use case. */
export const facilitatorRequestBody = z.object({
  x402Version: z.number().int(),
  paymentPayload: z.record(z.string(), z.unknown()),
  paymentRequirements: z.record(z.string(), z.unknown()),
});
export type FacilitatorRequest = z.output<typeof facilitatorRequestBody>;

/** VerifyResponse (§5.4.2). */
export const verifyResponseView = z.object({
  isValid: z.boolean(),
  invalidReason: z.string().optional(),
  invalidMessage: z.string().optional(),
  payer: z.string().optional(),
});
export type VerifyResponse = z.input<typeof verifyResponseView>;

/** SettleResponse (§5.3.2). */
export const settleResponseView = z.object({
  success: z.boolean(),
  errorReason: z.string().optional(),
  errorMessage: z.string().optional(),
  payer: z.string().optional(),
  transaction: z.string(),
  network: z.string(),
  amount: z.string().optional(),
});
export type SettleResponse = z.input<typeof settleResponseView>;

/** SupportedResponse (§7.3.1). */
export const supportedResponseView = z.object({
  kinds: z.array(
    z.object({
      x402Version: z.number(),
      scheme: z.string(),
      network: z.string(),
      extra: z.record(z.string(), z.unknown()).optional(),
    }),
  ),
  extensions: z.array(z.string()),
  signers: z.record(z.string(), z.array(z.string())),
});
