/**
 * The canonical form of a money movement and its SHA-256 digest: what a step-up approval is bound
 * to (docs/design/auth.md, "Step-up"). The digest names the amount, token, parties, deadline and
 * Idempotency-Key, so an approval given for one movement is refused for any other amount,
 * recipient or key. Pure; the auth half's approval check imports {@link movementDigest}.
 */
import { createHash } from "node:crypto";

import { getAddress, type Address } from "viem";

/** The movement exactly as the approval names it (JSON-safe: amounts as decimal strings). */
export type CanonicalMovement = {
  v: 1;
  chainId: number;
  userId: string;
  kind: string;
  token: Address;
  from: Address;
  to: Address;
  amount: string;
  payees: Address[];
  /** A self-custody authorization's validBefore (seconds, decimal); null where the service signs after approval. */
  deadline: string | null;
  idempotencyKey: string;
};

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

/**
 * Builds the canonical movement (addresses checksummed, amount a decimal string).
 * @example canonicalMovement({ chainId: 31337, userId, kind: "transfer", token, from, to, amount: 5n, idempotencyKey: "k" })
 */
export function canonicalMovement(m: {
  chainId: number;
  userId: string;
  kind: string;
  token: Address;
  from: Address;
  to: Address;
  amount: bigint;
  payees?: readonly Address[] | undefined;
  deadline?: bigint | null | undefined;
  idempotencyKey: string;
}): CanonicalMovement {
  return {
    v: 1,
    chainId: m.chainId,
    userId: m.userId,
    kind: m.kind,
    token: getAddress(m.token),
    from: getAddress(m.from),
    to: getAddress(m.to),
    amount: m.amount.toString(),
    payees: (m.payees ?? []).map((p) => getAddress(p)),
    deadline: m.deadline === undefined || m.deadline === null ? null : m.deadline.toString(),
    idempotencyKey: m.idempotencyKey,
  };
}

/**
 * `0x` + hex SHA-256 of the canonical JSON of a movement (or of a security action's canonical object).
 * @returns the digest an approval must name
 */
export function movementDigest(canonical: CanonicalMovement | Record<string, unknown>): `0x${string}` {
  return `0x${createHash("sha256").update(canonicalJson(canonical)).digest("hex")}`;
}
