/**
 * Password hashing with scrypt (node:crypto). The stored form names its parameters —
 * `scrypt$<log2 N>$<r>$<p>$<salt base64url>$<hash base64url>` — so raising API_PASSWORD_SCRYPT_LOG2_N
 * later changes new hashes only and every old one still verifies with the parameters it was made with.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";

const KEY_LENGTH = 32;
const R = 8;
const P = 1;

/** Shortest and longest password accepted (docs/design/auth.md). */
export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 200;

const scryptAsync = (password: string, salt: Buffer, options: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) =>
    scrypt(password.normalize("NFKC"), salt, KEY_LENGTH, options, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );

// scrypt needs 128·N·r bytes; node's default cap (32 MiB) is below N = 2^17, r = 8.
const optionsOf = (log2N: number, r: number, p: number): ScryptOptions => ({
  N: 2 ** log2N,
  r,
  p,
  maxmem: 256 * 2 ** log2N * r,
});

/**
 * Hashes a password for storage.
 * @param password - as typed (NFKC-normalised before hashing, so the same text typed on another keyboard verifies)
 * @param log2N - scrypt cost, log2 of N
 * @returns the self-describing stored form
 */
export async function hashPassword(password: string, log2N: number): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, optionsOf(log2N, R, P));
  return ["scrypt", log2N, R, P, salt.toString("base64url"), key.toString("base64url")].join("$");
}

/**
 * Checks a password against a stored hash, in constant time over the derived key.
 * @returns false for a wrong password or a malformed stored value
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, log2N, r, p, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || !salt || !hash) return false;
  const expected = Buffer.from(hash, "base64url");
  const key = await scryptAsync(
    password,
    Buffer.from(salt, "base64url"),
    optionsOf(Number(log2N), Number(r), Number(p)),
  );
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** The cost a stored hash was made with (to tell a user's hash needs upgrading, and for tests). */
export function scryptCostOf(stored: string): { log2N: number; r: number; p: number } | undefined {
  const [scheme, log2N, r, p] = stored.split("$");
  return scheme === "scrypt" ? { log2N: Number(log2N), r: Number(r), p: Number(p) } : undefined;
}
