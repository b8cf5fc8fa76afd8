import { hash } from "node:crypto";

import type { Hex } from "viem";

import { canonicalJson } from "./canonical-json.ts";

/**
 * The journal's hash chain (pure, no I/O). Every journal entry — the entry row with all its
 * postings — is hashed over a canonical encoding (`entryHash`), and each chain element commits to
 * the one before it: `chainHash(n) = sha256(tag ‖ n ‖ chainHash(n − 1) ‖ contentHash(n))`, where `n`
 * is the element's sequence number. Elements are entries and rollback records: a reorg's rollback
 * does not rewrite the chain, it appends a record naming the orphaned elements (whose hashes are
 * kept), and the new branch's entries continue after it. The first element links to an anchor
 * derived from the chain id and the chain's genesis hash, so a chain cannot be transplanted onto
 * another chain instance.
 *
 * The writer (indexer/ledger/writer.ts) computes the hashes from the entries it is about to store;
 * the auditor (`npm run audit -- verify-chain`) recomputes them from the stored rows. Both go through
 * {@link hashJournalEntry}, so the encoding below is the whole agreement: change it only with a new
 * version tag (old rows keep verifying under the tag they were written with).
 *
 * Why SHA-256: native in node:crypto (about 1 µs per entry), in every browser (WebCrypto) and in
 * the EVM (precompile 0x02) — an auditor can recompute a hash anywhere without our code.
 */

/** The encoding's version, part of every hashed message. */
export const JOURNAL_CHAIN_VERSION = "stablerail.journal.v1";

/** One posting as hashed: every column of the `postings` row. */
export type ChainedPosting = {
  leg: number;
  account: string;
  counterparty: string;
  token: string;
  amount: bigint;
  balanceAfter: bigint;
  kind: string;
  blockTimestamp: bigint;
};

/** One journal entry as hashed: every column of its `journal_entries` row (but the chain's own) and its postings. */
export type ChainedEntry = {
  chainId: number;
  blockNumber: bigint;
  logIndex: number;
  blockHash: string;
  blockTimestamp: bigint;
  transactionHash: string;
  token: string;
  kind: string;
  reference: string | null;
  /** The stored `event` JSON (key order does not matter: it is canonicalised). */
  event: unknown;
  postings: ChainedPosting[];
};

/** A rollback as hashed: the block it rolled back to and the orphaned elements (by sequence number). */
export type ChainedRollback = {
  chainId: number;
  ancestorBlock: bigint;
  /** Number of orphaned entries; 0 when the reorg touched blocks without entries. */
  orphanedCount: number;
  /** Sequence numbers of the first and last orphaned entry (null when none). */
  orphanedFromSeq: bigint | null;
  orphanedToSeq: bigint | null;
};

/** The tip of a chain: its last element's sequence number and hash (seq 0 = the anchor, no element yet). */
export type JournalChainHead = { seq: bigint; hash: Hex };

// One-shot `crypto.hash`: no Hash object per call (verify-chain hashes twice per entry, a million times).
const sha256 = (text: string): Hex => `0x${hash("sha256", text, "hex")}`;

/**
 * The hash the first element links to: binds the chain to one chain id and genesis block.
 * @param chainId - the indexed chain
 * @param genesisHash - its block 0 hash (ledger_chains.genesis_hash)
 */
export function journalChainAnchor(chainId: number, genesisHash: string): Hex {
  return sha256(`${JOURNAL_CHAIN_VERSION}:anchor:${chainId}:${genesisHash.toLowerCase()}`);
}

/**
 * The canonical encoding of an entry: a JSON array of its fields in a fixed order, amounts as
 * decimal strings, postings by leg, the event with its object keys sorted at every level.
 * @param options.eventJson - `canonicalJson(entry.event)` when the caller has it already (the writer
 *   stores that same text in the entry's `event` column, so the event is encoded once)
 */
export function canonicalJournalEntry(entry: ChainedEntry, options: { eventJson?: string } = {}): string {
  const eventJson = options.eventJson ?? canonicalJson(entry.event);
  const postings = [...entry.postings]
    .sort((a, b) => a.leg - b.leg)
    .map((p) => [
      p.leg,
      p.account,
      p.counterparty,
      p.token,
      p.amount.toString(),
      p.balanceAfter.toString(),
      p.kind,
      p.blockTimestamp.toString(),
    ]);
  const head = JSON.stringify([
    JOURNAL_CHAIN_VERSION,
    entry.chainId,
    entry.blockNumber.toString(),
    entry.logIndex,
    entry.blockHash,
    entry.blockTimestamp.toString(),
    entry.transactionHash,
    entry.token,
    entry.kind,
    entry.reference,
  ]);
  // The same text as JSON.stringify of the whole array with the sorted event in its place.
  return `${head.slice(0, -1)},${eventJson},${JSON.stringify(postings)}]`;
}

/**
 * Content hash of one entry with its postings.
 * @param options - see {@link canonicalJournalEntry}
 * @returns `0x`-prefixed SHA-256 of {@link canonicalJournalEntry}
 */
export function hashJournalEntry(entry: ChainedEntry, options: { eventJson?: string } = {}): Hex {
  return sha256(canonicalJournalEntry(entry, options));
}

/** Content hash of a rollback record. */
export function hashRollback(rollback: ChainedRollback): Hex {
  return sha256(
    JSON.stringify([
      JOURNAL_CHAIN_VERSION,
      "rollback",
      rollback.chainId,
      rollback.ancestorBlock.toString(),
      rollback.orphanedCount,
      rollback.orphanedFromSeq?.toString() ?? null,
      rollback.orphanedToSeq?.toString() ?? null,
    ]),
  );
}

/**
 * The link: element `seq`'s chain hash from its predecessor's chain hash and its own content hash.
 * @param previous - chain hash of element `seq − 1` (the anchor for seq 1)
 * @param seq - the element's sequence number (1, 2, …)
 * @param contentHash - {@link hashJournalEntry} or {@link hashRollback} of the element
 */
export function linkJournalChain(previous: Hex, seq: bigint, contentHash: Hex): Hex {
  return sha256(`${JOURNAL_CHAIN_VERSION}:link:${seq}:${previous}:${contentHash}`);
}
