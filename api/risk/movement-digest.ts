/**
 * The canonical form of a money movement and its SHA-256 digest: what a step-up approval is bound
 * to (docs/design/auth.md, "Step-up"). The digest names the amount, token, parties, deadline and
 * Idempotency-Key, so an approval given for one movement is refused for any other amount,
 * recipient or key. Pure; the bytes hashed are the auth half's canonical JSON (api/auth/step-up/canonical-digest.ts), so
 * both halves name one digest.
 */
import { getAddress, type Address } from "viem";

import { digestOf } from "../auth/step-up/canonical-digest.ts";

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
  return digestOf(canonical);
}
