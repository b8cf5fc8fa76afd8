import { ValidationError } from "../../errors/base.ts";

/** Position of a posting in chain order; encoded as an opaque cursor for pagination. */
export type PostingPosition = { blockNumber: bigint; logIndex: number; leg: number };

/** Encodes a posting position as an opaque, URL-safe cursor. */
export function encodeCursor(position: PostingPosition): string {
  return Buffer.from(`${position.blockNumber}:${position.logIndex}:${position.leg}`).toString("base64url");
}

/**
 * Decodes a cursor made by {@link encodeCursor}.
 * @throws ValidationError (`LEDGER_CURSOR_INVALID`) for anything else
 */
export function decodeCursor(cursor: string): PostingPosition {
  const match = /^(\d+):(\d+):([01])$/.exec(Buffer.from(cursor, "base64url").toString());
  if (!match)
    throw new ValidationError(
      "LEDGER_CURSOR_INVALID",
      "The cursor is not one this API returned; start again without a cursor",
    );
  return { blockNumber: BigInt(match[1]!), logIndex: Number(match[2]), leg: Number(match[3]) };
}
