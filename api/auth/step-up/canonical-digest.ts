/**
 * What a step-up approval is bound to: `0x` + hex SHA-256 of the canonical JSON (keys sorted at every
 * depth, no spaces) of one movement or one security action (docs/design/auth.md, "Step-up"). The
 * money door's movement digest (api/risk/movement-digest.ts) is this function over the canonical
 * movement; test/api/auth/step-up.unit.test.ts pins a vector.
 */
import { createHash } from "node:crypto";

/** JSON with object keys sorted at every depth and no spaces: one byte string per value. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The digest of a canonical object. */
export const digestOf = (canonical: unknown): `0x${string}` =>
  `0x${createHash("sha256").update(canonicalJson(canonical)).digest("hex")}`;

/** Security actions that need a fresh second factor once the user has one. */
export type SecurityAction =
  "create_api_key" | "create_session" | "add_passkey" | "remove_passkey" | "regenerate_recovery_codes";

/** The canonical object of a security action. */
export const canonicalSecurityAction = (p: { action: SecurityAction; userId: string; target: string | null }) => ({
  v: 1 as const,
  purpose: "stablerail.security" as const,
  action: p.action,
  userId: p.userId,
  target: p.target,
});

/**
 * The WebAuthn challenge of a step-up: SHA-256("stablerail-step-up:" ‖ digest ‖ nonce), base64url —
 * what the authenticator signs names this movement or action and no other.
 */
export const stepUpPasskeyChallenge = (digest: string, nonce: string) =>
  createHash("sha256").update(`stablerail-step-up:${digest}${nonce}`).digest("base64url");
