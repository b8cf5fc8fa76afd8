/**
 * The auditor's public surface for the API and the composition roots: reconciliation of the ledger
 * against the chain, the journal hash chain's verification, and proofs of reserves and liabilities.
 * Every function takes read-only database access and a JSON-RPC client, nothing else. Named
 * re-exports only.
 */
export {
  verifyJournalChain,
  type ChainFinding,
  type ChainFindingKind,
  type VerifyChainParameters,
  type VerifyChainReport,
} from "./journal-chain/verify-chain.ts";
export { reconcileLedger, type ReconcileParameters, type ReconciliationReport } from "./reconcile/reconcile-ledger.ts";
export { auditTransaction, type TransactionAudit, type TransactionRow } from "./reconcile/audit-transaction.ts";
export type { Mismatch, MismatchCheck } from "./reconcile/mismatch.ts";
export type { AuditedContracts } from "./reconcile/chain-logs.ts";
export { CANONICAL_MULTICALL3 } from "./reconcile/chain-reads.ts";
export { readLedgerHead } from "./reconcile/ledger-reads.ts";
export { buildReserves, type ReservesReport, type ReservesSnapshot } from "./reserves/reserves-report.ts";
export { readCustodialAccounts, type CustodialAccount } from "./reserves/custodial-accounts.ts";
export {
  liabilityProofSchema,
  verifyLiabilityProof,
  type LiabilityProof,
  type ProofVerification,
} from "./reserves/liability-proof.ts";
export { createProgress, silentProgress, type Progress } from "./report/progress.ts";
export { renderJson } from "./report/render-json.ts";
export {
  renderChainMarkdown,
  renderReconciliationMarkdown,
  renderReservesMarkdown,
  renderTransactionMarkdown,
} from "./report/render-markdown.ts";
