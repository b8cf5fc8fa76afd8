import type { Address, Hash, Hex } from "viem";

/** The contracts whose events the ledger reads (names as in the deployment file). */
export type IndexedContractName = "Stablecoin" | "PaymentEscrow" | "Settlement";

/** A log the decoder recognised: where it sits on chain and its event with typed args. */
export type DecodedLog = {
  chainId: number;
  blockNumber: bigint;
  blockHash: Hash;
  blockTimestamp: bigint;
  transactionHash: Hash;
  logIndex: number;
  address: Address;
  contractName: IndexedContractName;
  eventName: string;
  args: Record<string, unknown>;
};

/** What a journal entry records; the first three kinds come from the token alone, the rest from the event that caused the transfer. */
export const entryKinds = [
  "mint",
  "burn",
  "transfer",
  "authorization_transfer",
  "escrow_authorize",
  "escrow_capture",
  "escrow_fee",
  "escrow_void",
  "escrow_reclaim",
  "escrow_refund",
  "settlement_payout",
  "settlement_authorization",
] as const;
export type EntryKind = (typeof entryKinds)[number];

/** One leg of an entry: `amount` is negative where money leaves the account, positive where it arrives. */
export type Posting = {
  account: string;
  counterparty: string;
  amount: bigint;
};

/** One token movement (one Transfer log) as a balanced pair of postings. */
export type JournalEntry = {
  chainId: number;
  blockNumber: bigint;
  blockHash: Hash;
  blockTimestamp: bigint;
  transactionHash: Hash;
  logIndex: number;
  token: Address;
  kind: EntryKind;
  /** Escrow payment id, payout batch id or EIP-3009 nonce the movement belongs to. */
  reference: Hex | null;
  /** The Transfer and the labelling event, JSON-safe (bigints as decimal strings). */
  event: Record<string, unknown>;
  /** [debit, credit]; their amounts sum to zero. */
  postings: [Posting, Posting];
};

export type PaymentStatus = "authorized" | "captured" | "voided" | "reclaimed" | "refunded" | "partially_refunded";

/** An escrow payment after one of its events. */
export type PaymentState = {
  chainId: number;
  paymentId: Hex;
  blockNumber: bigint;
  logIndex: number;
  transactionHash: Hash;
  event: string;
  status: PaymentStatus;
  payer: Address;
  merchant: Address;
  operator: Address;
  token: Address;
  held: bigint;
  captured: bigint;
  refunded: bigint;
  terms: Record<string, unknown>;
};
