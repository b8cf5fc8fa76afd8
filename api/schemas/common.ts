import { getAddress, isAddress, isHex, type Address, type Hex } from "viem";
import { z } from "zod";

import { positiveAmount } from "../../lib/money.ts";
import { ValidationError } from "../../lib/errors/base.ts";

/** Schemas shared by every route; each gives the type, the validation and the OpenAPI description. */

export const errorResponse = z
  .object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) })
  .describe("Every error has this shape; `code` is stable");

/** Input address: any case accepted, returned checksummed. */
export const addressInput = z
  .string()
  .refine((value) => isAddress(value, { strict: false }), "must be a 0x-prefixed 20-byte address")
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
export const uintInput = z
  .string()
  .regex(/^\d{1,78}$/, "must be a whole number written as a decimal string")
  .transform((value) => BigInt(value));

export const idParam = z.uuid({ message: "must be a UUID" });

/** Cursor pagination on every list: an opaque cursor and a bounded page size. */
export const MAX_PAGE_SIZE = 100;
export const paginationQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(20),
  cursor: z.string().max(200).optional(),
});

export const page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

/** Cursors over the API's own tables: the row's sequence number, opaque to the client. */
export function encodeSeqCursor(seq: bigint): string {
  return Buffer.from(`s:${seq}`).toString("base64url");
}

export function decodeSeqCursor(cursor: string): bigint {
  const match = /^s:(\d+)$/.exec(Buffer.from(cursor, "base64url").toString());
  if (!match)
    throw new ValidationError(
      "CURSOR_INVALID",
      "The cursor is not one this API returned; start again without a cursor",
    );
  return BigInt(match[1]!);
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
