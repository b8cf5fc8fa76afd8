import { getAddress, isAddress, isHex, type Address, type Hex } from "viem";
import { z } from "zod";

import { MAX_UINT256, positiveAmount } from "../../lib/money.ts";
import { ValidationError } from "../../lib/errors/base.ts";

/** Schemas shared by every route; each gives the type, the validation and the OpenAPI description. */

export const errorResponse = z
  .object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) })
  .describe("Every error has this shape; `code` is stable");

/**
 * Input address: all lowercase, or mixed case with a valid EIP-55 checksum (a mixed-case address
 * whose checksum is wrong is a typo, not an address); returned checksummed.
 */
export const addressInput = z
  .string()
  .refine(
    (value) => isAddress(value, { strict: true }),
    "must be a 0x-prefixed 20-byte address, all lowercase or with a valid EIP-55 checksum",
  )
  .transform((value) => getAddress(value) as Address);

export const addressOutput = z.string().describe("checksummed address");

export const bytes32 = z
  .string()
  .refine((value) => isHex(value) && value.length === 66, "must be 0x-prefixed 32 bytes")
  .transform((value) => value.toLowerCase() as Hex);

export const signatureInput = z
  .string()
  .refine(
    (value) => isHex(value) && (value.length === 132 || value.length === 130),
    "must be a 0x-prefixed 65-byte signature",
  )
  .transform((value) => value as Hex);

/** Amounts in JSON: decimal strings of base units; parsed to bigint. */
export const amountInput = positiveAmount.describe("base units (> 0), decimal string");
export const amountOutput = z.string().describe("base units, decimal string");

/** PostgreSQL's int8: block numbers, unix times and every `seq` column are stored as it. */
export const INT8_MAX = 2n ** 63n - 1n;

/**
 * The one parser of integers written as text (query strings, path segments, JSON strings): plain
 * decimal digits — no sign, exponent, fraction, spaces, hex or leading zero — within [min, max].
 * `1e1`, `+1`, `" 1"`, `01` and `1.0` are refused rather than read as numbers.
 * @param bounds - inclusive bounds of the value
 * @returns a schema of the text that outputs a bigint
 */
export function decimalIntegerInput({ min = 0n, max }: { min?: bigint; max: bigint }) {
  return z
    .string()
    .regex(/^(0|[1-9][0-9]*)$/, "must be a whole number in plain decimal digits (no sign, exponent or leading zero)")
    .max(max.toString().length, `must be at most ${max}`)
    .transform((value, context) => {
      const parsed = BigInt(value);
      if (parsed < min || parsed > max) {
        context.issues.push({ code: "custom", input: value, message: `must be between ${min} and ${max}` });
        return z.NEVER;
      }
      return parsed;
    });
}

/** A uint256 as a decimal string (EIP-3009 validAfter / validBefore). */
export const uintInput = decimalIntegerInput({ max: MAX_UINT256 });
/** A block number or a unix time: what the ledger stores as int8. */
export const int8Input = decimalIntegerInput({ max: INT8_MAX });

export const idParam = z.uuid({ message: "must be a UUID" });

/** Cursor pagination on every list: an opaque cursor and a bounded page size. */
export const MAX_PAGE_SIZE = 100;
export const paginationQuery = z.object({
  limit: decimalIntegerInput({ min: 1n, max: BigInt(MAX_PAGE_SIZE) })
    .transform(Number)
    .default(20)
    .describe(`page size, 1 to ${MAX_PAGE_SIZE} (default 20)`),
  cursor: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,200}$/, "must be the nextCursor of a previous page")
    .optional()
    .describe("the nextCursor of the previous page"),
});

export const page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

/** Cursors over the API's own tables: the row's sequence number, opaque to the client. */
export function encodeSeqCursor(seq: bigint): string {
  return Buffer.from(`s:${seq}`).toString("base64url");
}

/**
 * Decodes a cursor made by {@link encodeSeqCursor}. The sequence number must fit int8 — the column's
 * type — so no cursor reaches the database as a value it cannot compare.
 * @throws ValidationError CURSOR_INVALID for anything else
 */
export function decodeSeqCursor(cursor: string): bigint {
  const match = /^s:(0|[1-9][0-9]{0,18})$/.exec(Buffer.from(cursor, "base64url").toString());
  const seq = match ? BigInt(match[1]!) : undefined;
  if (seq === undefined || seq > INT8_MAX)
    throw new ValidationError(
      "CURSOR_INVALID",
      "The cursor is not one this API returned; start again without a cursor",
    );
  return seq;
}

/** EIP-712 typed data as JSON for a wallet to sign (uint256 fields as decimal strings). */
export const typedDataView = <Message extends z.ZodRawShape>(message: Message) =>
  z.object({
    domain: z.object({ name: z.string(), version: z.string(), chainId: z.number(), verifyingContract: addressOutput }),
    types: z.record(z.string(), z.array(z.object({ name: z.string(), type: z.string() }))),
    primaryType: z.string(),
    message: z.object(message),
  });

/** EIP-3009 TransferWithAuthorization / ReceiveWithAuthorization typed data. */
export const authorizationTypedDataView = typedDataView({
  from: addressOutput,
  to: addressOutput,
  value: z.string(),
  validAfter: z.string(),
  validBefore: z.string(),
  nonce: z.string(),
});
