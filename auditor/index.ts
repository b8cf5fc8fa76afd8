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
export { createProgress, silentProgress, type Progress } from "./report/progress.ts";
