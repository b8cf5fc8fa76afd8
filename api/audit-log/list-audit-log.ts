import { and, desc, eq, lt, type SQL } from "drizzle-orm";

import type { Database } from "../../lib/db/database.ts";
import { auditLog } from "../db/security-schema.ts";

/**
 * A page of the audit log, newest first, filtered by action and actor.
 * @returns the entries and the seq of the last one when more remain
 */
export async function listAuditLog(
  database: Database,
  query: { action?: string | undefined; actorId?: string | undefined; limit: number; beforeSeq?: bigint | undefined },
) {
  const where: SQL[] = [];
  if (query.action) where.push(eq(auditLog.action, query.action));
  if (query.actorId) where.push(eq(auditLog.actorUserId, query.actorId));
  if (query.beforeSeq !== undefined) where.push(lt(auditLog.seq, query.beforeSeq));
  const rows = await database.db
    .select()
    .from(auditLog)
    .where(and(...where))
    .orderBy(desc(auditLog.seq))
    .limit(query.limit + 1);
  const items = rows.slice(0, query.limit).map((row) => ({
    seq: row.seq.toString(),
    at: row.at,
    actor: row.actorUserId
      ? { userId: row.actorUserId, role: row.actorRole, credentialId: row.actorCredentialId }
      : null,
    action: row.action,
    target: row.target,
    outcome: row.outcome as "success" | "failure",
    ip: row.ip,
    userAgent: row.userAgent,
    details: row.details as Record<string, unknown>,
    hash: row.hash,
  }));
  return { items, lastSeq: rows.length > query.limit ? rows[query.limit - 1]!.seq : undefined };
}
