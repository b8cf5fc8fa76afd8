import { randomUUID } from "node:crypto";

import { eq, sql } from "drizzle-orm";

import type { Database } from "../../lib/db/database.ts";
import { auditLog, auditLogHead } from "../db/security-schema.ts";
import { auditEntryHash, GENESIS_HASH } from "./audit-chain.ts";

/** Who acted (null for an anonymous request, e.g. a failed sign-in). */
export type AuditActor = { userId: string; role: string; credentialId: string | null } | null;

/** One privileged or security-relevant action. */
export type AuditEntryInput = {
  actor: AuditActor;
  /** A dotted verb: `auth.sign_in`, `api_key.create`, `risk.rules.update`, … */
  action: string;
  /** What it acted on (a user, key, session, rule set id), if anything. */
  target?: string | null | undefined;
  outcome: "success" | "failure";
  ip?: string | null | undefined;
  userAgent?: string | null | undefined;
  /** Small JSON: an error code, a factor — never a secret. */
  details?: Record<string, unknown> | undefined;
};

/**
 * Appends an entry to the hash-chained audit log. Appends are serialised by the head row's lock,
 * so seq is gap-free and each entry links to the one before it, across every API process.
 * @returns the entry's seq and hash
 * @example
 * await appendAuditEntry(database, { actor, action: "risk.denylist.add", target: address, outcome: "success", ip, userAgent });
 */
export async function appendAuditEntry(
  database: Database,
  input: AuditEntryInput,
): Promise<{ seq: bigint; hash: string }> {
  return database.db.transaction(async (tx) => {
    await tx
      .insert(auditLogHead)
      .values({ id: 1, seq: 0n, hash: GENESIS_HASH })
      .onConflictDoNothing({ target: auditLogHead.id });
    const [head] = await tx.select().from(auditLogHead).where(eq(auditLogHead.id, 1)).for("update");
    const fields = {
      seq: head!.seq + 1n,
      id: randomUUID(),
      // Millisecond precision: what the column and toISOString both keep, so the hash survives a read.
      at: new Date(),
      actorUserId: input.actor?.userId ?? null,
      actorRole: input.actor?.role ?? null,
      actorCredentialId: input.actor?.credentialId ?? null,
      action: input.action,
      target: input.target ?? null,
      outcome: input.outcome,
      ip: input.ip ?? null,
      userAgent: input.userAgent ?? null,
      details: input.details ?? {},
      prevHash: head!.hash,
    };
    const hash = auditEntryHash(fields);
    await tx.insert(auditLog).values({ ...fields, hash });
    await tx.update(auditLogHead).set({ seq: fields.seq, hash }).where(eq(auditLogHead.id, 1));
    return { seq: fields.seq, hash };
  });
}

/** Reads the whole chain in seq order, and the head (for verification). */
export async function readAuditChain(database: Database) {
  const rows = await database.db
    .select()
    .from(auditLog)
    .orderBy(sql`${auditLog.seq} asc`);
  const [head] = await database.db.select().from(auditLogHead).where(eq(auditLogHead.id, 1));
  return { rows: rows.map((row) => ({ ...row, details: row.details as unknown })), head };
}
