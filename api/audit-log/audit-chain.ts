/**
 * The audit log's hash chain (pure). Each entry's hash is SHA-256 over the previous entry's hash and
 * the entry's own fields in canonical JSON, so changing, removing, adding or moving any row breaks the
 * chain from there on; the head row (last seq and hash) catches a removed or added tail.
 *
 * Input: the rows in seq order and the head. Output: whether the chain holds, and if not the first
 * row that breaks it and how (`edited`, `deleted`, `inserted`, `reordered`, `truncated`).
 */
import { createHash } from "node:crypto";

import { canonicalJson } from "../auth/index.ts";

/** The previous hash of the first entry. */
export const GENESIS_HASH = "0".repeat(64);

/** An entry's fields as hashed (everything but its own hash). */
export type AuditEntryFields = {
  seq: bigint;
  id: string;
  at: Date;
  actorUserId: string | null;
  actorRole: string | null;
  actorCredentialId: string | null;
  action: string;
  target: string | null;
  outcome: string;
  ip: string | null;
  userAgent: string | null;
  details: unknown;
  prevHash: string;
};

/** The hash of an entry, given its fields (`prevHash` included). */
export function auditEntryHash(entry: AuditEntryFields): string {
  // Named fields only: a row read back carries its own hash (and may carry columns added later).
  const fields = {
    seq: entry.seq.toString(),
    id: entry.id,
    at: entry.at.toISOString(),
    actorUserId: entry.actorUserId,
    actorRole: entry.actorRole,
    actorCredentialId: entry.actorCredentialId,
    action: entry.action,
    target: entry.target,
    outcome: entry.outcome,
    ip: entry.ip,
    userAgent: entry.userAgent,
    details: entry.details,
    prevHash: entry.prevHash,
  };
  return createHash("sha256").update(canonicalJson(fields)).digest("hex");
}

export type AuditProblem = "edited" | "deleted" | "inserted" | "reordered" | "truncated";

export type AuditVerification = {
  valid: boolean;
  entries: number;
  headHash: string;
  firstInvalidSeq?: string;
  problem?: AuditProblem;
};

/**
 * Verifies the chain.
 * @param rows - every entry, in seq order
 * @param head - the head row, or undefined when nothing was ever appended
 */
export function verifyAuditChain(
  rows: readonly (AuditEntryFields & { hash: string })[],
  head: { seq: bigint; hash: string } | undefined,
): AuditVerification {
  const headHash = head?.hash ?? GENESIS_HASH;
  const fail = (seq: bigint, problem: AuditProblem): AuditVerification => ({
    valid: false,
    entries: rows.length,
    headHash,
    firstInvalidSeq: seq.toString(),
    problem,
  });
  const hashes = new Set<string>();
  let expectedSeq = 1n;
  let prevHash = GENESIS_HASH;
  for (const [index, row] of rows.entries()) {
    if (row.seq > expectedSeq) return fail(expectedSeq, "deleted");
    if (auditEntryHash(row) !== row.hash) {
      // The seq is hashed: a row renumbered to close a gap or to make room is told apart from an edit.
      if (auditEntryHash({ ...row, seq: row.seq - 1n }) === row.hash) return fail(row.seq - 1n, "inserted");
      if (auditEntryHash({ ...row, seq: row.seq + 1n }) === row.hash) return fail(row.seq, "deleted");
      return fail(row.seq, "edited");
    }
    if (row.prevHash !== prevHash) {
      // A self-consistent row that does not link: added (the next row links past it), moved (it links
      // to an earlier row), or the row before it was removed and this one re-hashed.
      const next = rows[index + 1];
      if (next && next.prevHash === prevHash) return fail(row.seq, "inserted");
      if (hashes.has(row.prevHash)) return fail(row.seq, "reordered");
      return fail(row.seq, "inserted");
    }
    hashes.add(row.hash);
    prevHash = row.hash;
    expectedSeq = row.seq + 1n;
  }
  const lastSeq = expectedSeq - 1n;
  const headSeq = head?.seq ?? 0n;
  if (headSeq > lastSeq) return fail(lastSeq + 1n, "truncated");
  if (headSeq < lastSeq) return fail(headSeq + 1n, "inserted");
  if (headHash !== prevHash) return fail(lastSeq, "edited");
  return { valid: true, entries: rows.length, headHash };
}
