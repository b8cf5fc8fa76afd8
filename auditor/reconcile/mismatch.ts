import type { Address, Hex } from "viem";

/**
 * One thing the ledger and the chain disagree on, said precisely: which check, which account, token,
 * payment or log, what the chain says (`expected`) and what the ledger holds (`found`), and the
 * first block where they diverge.
 */
export type MismatchCheck =
  /** A holder's ledger balance ≠ the token's balanceOf. */
  | "balance"
  /** The issuance account ≠ −totalSupply. */
  | "issuance"
  /** holder:<escrow> + Σ escrow:* ≠ the escrow contract's balanceOf. */
  | "escrow_total"
  /** A payment's held / captured / refunded ≠ PaymentEscrow.paymentState, or its escrow account ≠ held. */
  | "payment"
  /** A stored running balance (postings.balance_after) ≠ the sum of the account's postings. */
  | "running_balance"
  /** A Transfer on chain with no journal entry. */
  | "missing_entry"
  /** A journal entry with no such Transfer on chain. */
  | "extra_entry"
  /** A journal entry recorded at another block than its Transfer. */
  | "moved_entry"
  /** A journal entry whose movement differs from its Transfer (field named). */
  | "entry_differs"
  /** An escrow, settlement or Transfer event on chain with no chain_events row (or no payment state for an escrow event). */
  | "missing_event"
  /** A chain_events row with no such event on chain. */
  | "extra_event"
  /** A chain_events row whose event differs from the chain's (field named). */
  | "event_differs"
  /** The ledger's block hash at the audited block is not the node's. */
  | "block_hash";

export type Mismatch = {
  check: MismatchCheck;
  account?: string | undefined;
  token?: Address | undefined;
  paymentId?: Hex | undefined;
  /** The log concerned (completeness checks). */
  position?: { blockNumber: bigint; logIndex: number; transactionHash?: string | undefined } | undefined;
  /** The field that differs, when one does. */
  field?: string | undefined;
  /** What the chain says. */
  expected: string;
  /** What the ledger holds. */
  found: string;
  /** The first block at which ledger and chain disagree on this (bisection for state, the log's block for completeness). */
  firstDivergentBlock?: bigint | undefined;
  message: string;
};
