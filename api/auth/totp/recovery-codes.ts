/**
 * Recovery codes: 10 per user, each 12 characters of a 32-letter alphabet (60 random bits), shown once
 * as `xxxx-xxxx-xxxx` and stored as SHA-256 — a fast hash is enough for 60 random bits behind the
 * lockout. Single-use: consumed by one conditional UPDATE, so two concurrent uses cannot both pass.
 */
import { createHash, randomInt, randomUUID } from "node:crypto";

import { and, eq, isNull } from "drizzle-orm";

import type { Database } from "../../../lib/db/database.ts";
import { recoveryCodes } from "../../db/security-schema.ts";

export const RECOVERY_CODE_COUNT = 10;
// No 0/o, 1/l/i: the code is typed from paper.
const ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz";

type Tx = Parameters<Parameters<Database["db"]["transaction"]>[0]>[0];

const normalise = (code: string) => code.toLowerCase().replace(/-/g, "");
const hashOf = (userId: string, code: string) =>
  createHash("sha256")
    .update(`${userId}:${normalise(code)}`)
    .digest("hex");

function newCode(): string {
  const chars = Array.from({ length: 12 }, () => ALPHABET[randomInt(ALPHABET.length)]).join("");
  return `${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8)}`;
}

/**
 * Replaces a user's recovery codes with 10 new ones (the previous ones stop working).
 * @returns the codes, to show once
 */
export async function replaceRecoveryCodes(db: Database["db"] | Tx, userId: string): Promise<string[]> {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newCode);
  await db.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId));
  await db
    .insert(recoveryCodes)
    .values(codes.map((code) => ({ id: randomUUID(), userId, codeHash: hashOf(userId, code) })));
  return codes;
}

/**
 * Uses up one recovery code.
 * @returns "ok", "reused" (it was valid and has been used), or "wrong"
 */
export async function consumeRecoveryCode(
  database: Database,
  userId: string,
  code: string,
): Promise<"ok" | "reused" | "wrong"> {
  const codeHash = hashOf(userId, code);
  const used = await database.db
    .update(recoveryCodes)
    .set({ usedAt: new Date() })
    .where(and(eq(recoveryCodes.userId, userId), eq(recoveryCodes.codeHash, codeHash), isNull(recoveryCodes.usedAt)))
    .returning({ id: recoveryCodes.id });
  if (used.length > 0) return "ok";
  const [known] = await database.db
    .select({ id: recoveryCodes.id })
    .from(recoveryCodes)
    .where(and(eq(recoveryCodes.userId, userId), eq(recoveryCodes.codeHash, codeHash)));
  return known ? "reused" : "wrong";
}
