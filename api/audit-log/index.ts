/**
 * The hash-chained audit log of privileged and security-relevant actions: append an entry (any use
 * case — the risk engine's rule, denylist and review changes too), wrap a route's action so its
 * outcome is recorded, list and verify. Named re-exports only.
 */
export { appendAuditEntry, readAuditChain, type AuditActor, type AuditEntryInput } from "./append-audit-entry.ts";
export { audited } from "./audited.ts";
export { auditEntryHash, verifyAuditChain, GENESIS_HASH, type AuditVerification } from "./audit-chain.ts";
export { listAuditLog } from "./list-audit-log.ts";
