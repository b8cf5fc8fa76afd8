import { ValidationError } from "../../errors/base.ts";

/** Position of a posting in chain order; encoded as an opaque cursor for pagination. */
export type PostingPosition = { blockNumber: bigint; logIndex: number; leg: number };

/** Encodes a posting position as an opaque, URL-safe cursor. */
export function encodeCursor(position: PostingPosition): string {
  return Buffer.from(`${position.blockNumber}:${position.logIndex}:${position.leg}`).toString("base64url");
}

/** The columns' types bound every position: block numbers are int8, log indexes int4. */
const INT8_MAX = 2n ** 63n - 1n;
const INT4_MAX = 2 ** 31 - 1;

/**
 * Decodes a cursor made by {@link encodeCursor}; a position no column can hold is refused here,
 * before it reaches a query.
 * @throws ValidationError (`LEDGER_CURSOR_INVALID`) for anything else
 */
export function decodeCursor(cursor: string): PostingPosition {
  const match = /^(0|[1-9]\d{0,18}):(0|[1-9]\d{0,9}):([01])$/.exec(Buffer.from(cursor, "base64url").toString());
  if (!match || BigInt(match[1]!) > INT8_MAX || Number(match[2]) > INT4_MAX)
    throw new ValidationError(
      "LEDGER_CURSOR_INVALID",
      "The cursor is not one this API returned; start again without a cursor",
    );
  return { blockNumber: BigInt(match[1]!), logIndex: Number(match[2]), leg: Number(match[3]) };
}
