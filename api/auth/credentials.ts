import { createHash, randomBytes } from "node:crypto";

/** Roles a principal (and each of its API keys) holds. */
export const roles = ["user", "merchant", "operator", "auditor", "admin"] as const;
export type Role = (typeof roles)[number];

/** API keys and session tokens: 256 random bits, prefixed so a leaked one is recognisable. */
export function generateApiKey(): string {
  return `sr_key_${randomBytes(32).toString("base64url")}`;
}

export function generateSessionToken(): string {
  return `sr_sess_${randomBytes(32).toString("base64url")}`;
}

/**
 * SHA-256 of a credential. A slow password hash is unnecessary: the input is 256 random bits,
 * so the hash cannot be brute-forced, and a fast hash keeps the per-request lookup cheap.
 */
export function hashCredential(credential: string): string {
  return createHash("sha256").update(credential).digest("hex");
}
