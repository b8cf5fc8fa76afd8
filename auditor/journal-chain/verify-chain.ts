/**
 * verify-chain: recomputes the journal's hash chain (lib/ledger/journal-chain.ts) from the stored
 * rows and names the first row that was edited, inserted, deleted or reordered. Input: read-only
 * access to the ledger's tables. Output: a {@link VerifyChainReport} — the recomputed head, the
 * stored head, and every finding in chain order.
 *
 * How it reads: journal entries in primary-key order (block, log index), in pages, each page's
 * postings by the same key range (so every posting row is read once, including postings whose entry
 * is gone); orphans and rollback records in full (one row per reorg'd entry and per reorg: few). In
 * an untouched ledger the primary-key order is the chain order, so the walk keeps only the last
 * element's hash; any disorder is remembered in small maps and a bitmap of the sequence numbers seen.
 *
 * What each finding means:
 * - `edited`: a row's content (entry or any of its postings) no longer hashes to its stored entry hash;
 * - `inserted`: a row with no chain position, one beyond the chain's head, a second row claiming a
 *   sequence number already held, or postings that belong to no entry;
 * - `deleted`: sequence numbers missing from the chain (with the rows around the gap);
 * - `reordered`: rows whose chain order disagrees with their ledger order;
 * - `link_broken`: a row whose chain hash does not follow from its predecessor's — its hashes were
 *   recomputed by someone other than the writer, or its predecessor was;
 * - `rollback_invalid`: a rollback record whose content or orphaned range does not hold;
 * - `head_mismatch`: the stored chain head (ledger_chains) or an expected head (`expectHead`, e.g.
 *   from an earlier report or the attestation contract) is not what the chain recomputes to.
 */
import { sql } from "drizzle-orm";
import type { Hex } from "viem";

import type { Database } from "../../lib/db/database.ts";
import {
  hashJournalEntry,
  hashRollback,
  journalChainAnchor,
  linkJournalChain,
  type ChainedEntry,
  type ChainedPosting,
  type JournalChainHead,
} from "../../lib/ledger/journal-chain.ts";
import type { Progress } from "../report/progress.ts";

export type ChainFindingKind =
  "edited" | "inserted" | "deleted" | "reordered" | "link_broken" | "rollback_invalid" | "head_mismatch";

/** Where a row sits in the ledger. */
export type RowPosition = { blockNumber: bigint; logIndex: number; transactionHash?: string };

export type ChainFinding = {
  kind: ChainFindingKind;
  /** The chain position concerned (for `deleted`: the first missing one). */
  seq?: bigint | undefined;
  /** The row concerned, when there is one. */
  row?: RowPosition | undefined;
  message: string;
};

export type VerifyChainReport = {
  chainId: number;
  ok: boolean;
  /** Rows read: live entries, postings, orphaned entries, rollback records. */
  checked: { entries: number; postings: number; orphans: number; rollbacks: number };
  /** The head the chain recomputes to (the last element's hash as verified). */
  head: JournalChainHead;
  /** The head stored on the checkpoint row (ledger_chains). */
  storedHead: JournalChainHead;
  /** The first finding in chain order, the one to look at first. */
  first: ChainFinding | undefined;
  findings: ChainFinding[];
  /** More findings than `maxFindings` were found and left out. */
  truncated: boolean;
};

export type VerifyChainParameters = {
  chainId: number;
  /** Entries per page (default 5,000). */
  pageSize?: number | undefined;
  /**
   * Pages read at the same time, each on its own connection (default 3 on PostgreSQL, 1 on PGlite,
   * whose one embedded session runs queries one after the other).
   */
  concurrency?: number | undefined;
  /** The chain must pass through this element (a head published earlier). */
  expectHead?: JournalChainHead | undefined;
  /** Findings kept in the report (default 1,000; the walk always completes). */
  maxFindings?: number | undefined;
  progress?: Progress | undefined;
};

type EntryRow = {
  block_number: string;
  log_index: number;
  block_hash: string;
  block_timestamp: string;
  transaction_hash: string;
  token: string;
  kind: string;
  reference: string | null;
  event: unknown;
  seq: string | null;
  entry_hash: string | null;
  chain_hash: string | null;
};

type PostingRow = {
  block_number: string;
  log_index: number;
  leg: number;
  account: string;
  counterparty: string;
  token: string;
  amount: string;
  balance_after: string;
  kind: string;
  block_timestamp: string;
};

type SideElement =
  | { type: "orphan"; seq: bigint; row: RowPosition; entryHash: Hex; chainHash: Hex; rollbackSeq: bigint }
  | {
      type: "rollback";
      seq: bigint;
      ancestorBlock: bigint;
      orphanedCount: number;
      orphanedFromSeq: bigint | null;
      orphanedToSeq: bigint | null;
      contentHash: Hex;
      chainHash: Hex;
    };

/**
 * Recomputes the journal chain of one chain id and reports every break.
 * @param database - read-only access to the ledger
 * @returns the report; `ok` is true only when nothing at all is wrong
 * @example
 * const report = await verifyJournalChain(database, { chainId: 31337 });
 * if (!report.ok) console.log(report.first?.message);
 */
export async function verifyJournalChain(
  database: Database,
  { chainId, pageSize = 5_000, concurrency, expectHead, maxFindings = 1_000, progress }: VerifyChainParameters,
): Promise<VerifyChainReport> {
  const [chain] = await database.query<{ genesis_hash: string; journal_seq: string; journal_head: string | null }>(
    sql`SELECT genesis_hash, journal_seq::text AS journal_seq, journal_head FROM ledger_chains WHERE chain_id = ${chainId}`,
  );
  const anchor = journalChainAnchor(chainId, chain?.genesis_hash ?? "0x");
  const storedHead: JournalChainHead = {
    seq: BigInt(chain?.journal_seq ?? 0),
    hash: (chain?.journal_head ?? anchor) as Hex,
  };
  const findings: ChainFinding[] = [];
  let findingCount = 0;
  const report = (finding: ChainFinding) => {
    findingCount++;
    if (findings.length < maxFindings) findings.push(finding);
  };

  // Sequence numbers seen, and where each sits (for naming a gap's neighbours). One byte per element.
  const size = Number(storedHead.seq) + 1;
  const seen = new Uint8Array(size);
  const blockAt = new Float64Array(size); // block numbers stay far below 2^53
  const logAt = new Int32Array(size).fill(-1);
  const place = (seq: number, row: RowPosition) => {
    blockAt[seq] = Number(row.blockNumber);
    logAt[seq] = row.logIndex;
  };
  const positionOf = (seq: number): RowPosition | undefined =>
    seq >= 0 && seq < size && logAt[seq]! >= 0
      ? { blockNumber: BigInt(blockAt[seq]!), logIndex: logAt[seq]! }
      : undefined;

  // Link checking that survives disorder: `last` in the common case, the two maps otherwise.
  let last: { seq: bigint; hash: Hex } = { seq: 0n, hash: anchor };
  const tails = new Map<bigint, Hex>(); // chain hashes of elements whose successor has not come yet
  const waiting = new Map<bigint, { contentHash: Hex; chainHash: Hex; row: RowPosition | undefined }>();
  const verifiedHashes = new Map<bigint, Hex>(); // only the expected head's, when asked for
  const checkLink = (
    previous: Hex,
    seq: bigint,
    element: { contentHash: Hex; chainHash: Hex; row: RowPosition | undefined },
  ) => {
    if (linkJournalChain(previous, seq, element.contentHash) !== element.chainHash)
      report({
        kind: "link_broken",
        seq,
        row: element.row,
        message: `chain element ${seq}${where(element.row)} does not link to element ${seq - 1n}: its chain hash was not computed from its predecessor's (one of the two was rewritten with fresh hashes)`,
      });
  };
  const visit = (seq: bigint, element: { contentHash: Hex; chainHash: Hex; row: RowPosition | undefined }) => {
    if (expectHead && seq === expectHead.seq) verifiedHashes.set(seq, element.chainHash);
    if (seq === last.seq + 1n) checkLink(last.hash, seq, element);
    else if (seq === 1n) checkLink(anchor, seq, element);
    else if (tails.has(seq - 1n)) {
      checkLink(tails.get(seq - 1n)!, seq, element);
      tails.delete(seq - 1n);
    } else waiting.set(seq, element);
    const next = waiting.get(seq + 1n);
    if (next) {
      checkLink(element.chainHash, seq + 1n, next);
      waiting.delete(seq + 1n);
    }
    if (seq !== last.seq + 1n && last.seq > 0n) tails.set(last.seq, last.hash);
    last = { seq, hash: element.chainHash };
  };

  const side = await readSideElements(database, chainId);
  let sideIndex = 0;
  const visitSide = (element: SideElement) => {
    const index = Number(element.seq);
    if (element.seq > storedHead.seq || element.seq < 1n) {
      report({
        kind: element.type === "rollback" ? "rollback_invalid" : "inserted",
        seq: element.seq,
        message: `${element.type} record claims chain position ${element.seq}, beyond the chain's head ${storedHead.seq}`,
      });
      return;
    }
    if (seen[index]) {
      report({
        kind: "inserted",
        seq: element.seq,
        message: `${element.type} record claims chain position ${element.seq}, which another row already holds`,
      });
      return;
    }
    seen[index] = 1;
    if (element.type === "orphan") {
      place(index, element.row);
      visit(element.seq, { contentHash: element.entryHash, chainHash: element.chainHash, row: element.row });
      return;
    }
    const content = hashRollback({ chainId, ...element });
    if (content !== element.contentHash)
      report({
        kind: "rollback_invalid",
        seq: element.seq,
        message: `rollback record ${element.seq} (to block ${element.ancestorBlock}) was edited: its content no longer matches its hash`,
      });
    visit(element.seq, { contentHash: element.contentHash, chainHash: element.chainHash, row: undefined });
  };

  // Rollback checks: every orphan is named by its rollback, and each rollback's range is what it claims.
  const rollbacks = side.filter((e): e is Extract<SideElement, { type: "rollback" }> => e.type === "rollback");
  const orphanCount = new Map<bigint, number>();
  for (const element of side) {
    if (element.type !== "orphan") continue;
    const rollback = rollbacks.find((r) => r.seq === element.rollbackSeq);
    orphanCount.set(element.rollbackSeq, (orphanCount.get(element.rollbackSeq) ?? 0) + 1);
    if (
      !rollback ||
      rollback.orphanedFromSeq === null ||
      element.seq < rollback.orphanedFromSeq ||
      element.seq > rollback.orphanedToSeq! ||
      element.row.blockNumber <= rollback.ancestorBlock
    )
      report({
        kind: "rollback_invalid",
        seq: element.seq,
        row: element.row,
        message: `orphaned entry ${element.seq}${where(element.row)} is not covered by its rollback record ${element.rollbackSeq}`,
      });
  }
  for (const rollback of rollbacks) {
    if ((orphanCount.get(rollback.seq) ?? 0) !== rollback.orphanedCount)
      report({
        kind: "rollback_invalid",
        seq: rollback.seq,
        message: `rollback record ${rollback.seq} orphaned ${rollback.orphanedCount} entries, but ${orphanCount.get(rollback.seq) ?? 0} orphan rows name it (deleted or inserted orphan rows)`,
      });
  }
  // The lowest ancestor of any rollback after a given position: entries written before a rollback must lie at or below it.
  const ancestorAfter = rollbacks.map((r) => r.seq);
  const minAncestorFrom: bigint[] = [];
  for (let i = rollbacks.length - 1, min: bigint | undefined; i >= 0; i--) {
    min = min === undefined || rollbacks[i]!.ancestorBlock < min ? rollbacks[i]!.ancestorBlock : min;
    minAncestorFrom[i] = min;
  }

  // Rows whose content failed its hash, kept to tell an edit from a copy or a swap once the other row is read.
  const flagged = new Map<bigint, FlaggedRow>();
  const counts = { entries: 0, postings: 0, orphans: side.length - rollbacks.length, rollbacks: rollbacks.length };
  let maxSeqSeen = 0n;
  let maxSeqRow: RowPosition | undefined;
  progress?.start(Number(storedHead.seq), "chain elements");
  for await (const { entries, postingRows } of readPagesInOrder(database, {
    chainId,
    pageSize,
    expectedEntries: Number(storedHead.seq),
    concurrency: concurrency ?? (database.engine === "postgres" ? 3 : 1),
  })) {
    counts.postings += postingRows.length;

    let p = 0;
    for (const entry of entries) {
      const row: RowPosition = {
        blockNumber: BigInt(entry.block_number),
        logIndex: entry.log_index,
        transactionHash: entry.transaction_hash,
      };
      // Postings sorting before this entry belong to no entry.
      const own: ChainedPosting[] = [];
      for (; p < postingRows.length; p++) {
        const posting = postingRows[p]!;
        const order = compare(BigInt(posting.block_number), posting.log_index, row.blockNumber, row.logIndex);
        if (order > 0) break;
        if (order < 0) {
          report(strayPostings(posting));
          continue;
        }
        own.push(toChainedPosting(posting));
      }
      counts.entries++;
      const seq = entry.seq === null ? undefined : BigInt(entry.seq);
      if (seq === undefined || entry.entry_hash === null || entry.chain_hash === null) {
        report({
          kind: "inserted",
          row,
          message: `entry${where(row)} has no place in the journal chain (no sequence number or hashes): it was not written by the indexer`,
        });
        continue;
      }
      const contentHash = hashJournalEntry(toChainedEntry(chainId, entry, own));
      const edited = contentHash !== entry.entry_hash;
      if (seq < 1n || seq > storedHead.seq) {
        report({
          kind: "inserted",
          seq,
          row,
          message: `entry${where(row)} claims chain position ${seq}, beyond the chain's head ${storedHead.seq}`,
        });
        continue;
      }
      const index = Number(seq);
      // Orphans and rollback records that come before this element in chain order.
      while (sideIndex < side.length && side[sideIndex]!.seq < seq) visitSide(side[sideIndex++]!);
      if (seen[index]) {
        const holder = flagged.get(seq);
        if (holder && !edited) {
          // The row seen first was the copy (its content fails the hash); this one is the original.
          Object.assign(holder.finding, insertedCopy(seq, holder.row, row));
          place(index, row);
        } else report(insertedCopy(seq, row, positionOf(index)));
        continue;
      }
      seen[index] = 1;
      place(index, row);
      // A row whose content (position included) still matches its hash sits where it was written, so
      // only rows that fail it can have moved: a row out of chain order is paired with a moved row it swapped with.
      const partner =
        edited && seq < maxSeqSeen
          ? [...flagged.values()].find((other) => other.seq > seq && swapped(chainId, { entry, postings: own }, other))
          : undefined;
      if (partner) {
        Object.assign(partner.finding, {
          kind: "reordered",
          seq,
          row,
          message: `the entries${where(partner.row)} (chain element ${partner.seq}) and${where(row)} (chain element ${seq}) swapped places: rows were reordered`,
        } satisfies ChainFinding);
        flagged.delete(partner.seq);
      } else if (edited) {
        const finding: ChainFinding = {
          kind: seq < maxSeqSeen ? "reordered" : "edited",
          seq,
          row,
          message:
            seq < maxSeqSeen
              ? `entry${where(row)} is chain element ${seq} but comes after element ${maxSeqSeen}${where(maxSeqRow)} in ledger order, and its content no longer matches its hash: it was moved`
              : `entry${where(row)} (chain element ${seq}) was edited: its content or its postings no longer match its hash`,
        };
        report(finding);
        flagged.set(seq, { finding, entry, postings: own, row, seq, contentHash });
      }
      if (seq > maxSeqSeen) {
        maxSeqSeen = seq;
        maxSeqRow = row;
      }
      const r = rollbacks.length === 0 ? -1 : ancestorAfter.findIndex((rollbackSeq) => rollbackSeq > seq);
      if (r >= 0 && row.blockNumber > minAncestorFrom[r]!)
        report({
          kind: "inserted",
          seq,
          row,
          message: `entry${where(row)} (chain element ${seq}) lies above block ${minAncestorFrom[r]}, which a later rollback removed everything above: it should not be there`,
        });
      visit(seq, { contentHash: entry.entry_hash as Hex, chainHash: entry.chain_hash as Hex, row });
    }
    for (; p < postingRows.length; p++) report(strayPostings(postingRows[p]!));
    progress?.tick(entries.length);
  }
  while (sideIndex < side.length) visitSide(side[sideIndex++]!);
  progress?.done();

  // Two rows that exchanged their chain fields (sequence number and hashes): each holds the other's content hash.
  const byStoredHash = new Map([...flagged.values()].map((row) => [row.entry.entry_hash, row]));
  for (const row of flagged.values()) {
    const other = byStoredHash.get(row.contentHash);
    if (!other || other === row || other.entry.entry_hash === null || other.contentHash !== row.entry.entry_hash)
      continue;
    if (row.seq > other.seq) continue;
    Object.assign(row.finding, {
      kind: "reordered",
      message: `the entries${where(row.row)} and${where(other.row)} exchanged their places in the chain (elements ${row.seq} and ${other.seq}): rows were reordered`,
    });
    other.finding.kind = "reordered";
    other.finding.message = row.finding.message;
    findings.splice(findings.indexOf(other.finding), 1);
    findingCount--;
  }

  // Gaps: positions no row holds. Reordered rows fill each other's gaps, so only what is truly missing is left.
  for (let index = 1; index < size; index++) {
    if (seen[index]) continue;
    let to = index;
    while (to + 1 < size && !seen[to + 1]) to++;
    const before = positionOf(index - 1);
    const after = positionOf(to + 1);
    report({
      kind: "deleted",
      seq: BigInt(index),
      row: after ?? before,
      message:
        `chain element${to > index ? `s ${index}–${to} are` : ` ${index} is`} missing` +
        ` (between ${index === 1 ? "the chain's start" : describe(before)} and ${to + 1 < size ? describe(after) : "the chain's head"}): ` +
        `${to > index ? "rows were" : "a row was"} deleted`,
    });
    index = to;
  }

  const head = { seq: last.seq, hash: last.hash };
  if (last.seq !== storedHead.seq || last.hash !== storedHead.hash)
    report({
      kind: "head_mismatch",
      seq: storedHead.seq,
      message: `the stored chain head (element ${storedHead.seq}, ${storedHead.hash}) is not the last element verified (element ${last.seq}, ${last.hash})`,
    });
  if (expectHead) {
    const found = verifiedHashes.get(expectHead.seq);
    if (found !== expectHead.hash)
      report({
        kind: "head_mismatch",
        seq: expectHead.seq,
        message: found
          ? `the chain no longer passes through the expected head: element ${expectHead.seq} is ${found}, expected ${expectHead.hash} (history before it was rewritten)`
          : `the expected head's element ${expectHead.seq} is not in the chain (the chain was truncated or rewritten)`,
      });
  }

  sortInChainOrder(findings, positionOf);
  return {
    chainId,
    ok: findingCount === 0,
    checked: counts,
    head,
    storedHead,
    first: findings[0],
    findings,
    truncated: findingCount > findings.length,
  };
}

type JournalPage = { entries: EntryRow[]; postingRows: PostingRow[] };

/** Where a page starts: after a row (keyset), or at a block (the first row of it and every row after). */
type PageStart = { after: RowPosition } | { fromBlock: bigint } | undefined;

/**
 * Reads the journal's entries and postings in primary-key order, page after page, with up to
 * `concurrency` pages in flight. Reading is about half of verify-chain's time, and keyset pages
 * (each starting after the previous one's last row) can only be read one after the other. So the
 * block range that holds entries when the walk starts is cut first into block ranges of about
 * `pageSize` entries, read side by side on several connections (the PostgreSQL server works for
 * each on a core of its own, while this process hashes). Rows beyond that range (written since)
 * are read in keyset pages, as before. Pages come out in key order whatever order they arrive in,
 * so the walk sees exactly the rows a one-by-one read would; a range of blocks that happens to
 * hold more entries only makes its page longer.
 */
async function* readPagesInOrder(
  database: Database,
  {
    chainId,
    pageSize,
    expectedEntries,
    concurrency,
  }: { chainId: number; pageSize: number; expectedEntries: number; concurrency: number },
): AsyncGenerator<JournalPage> {
  const [range] = await database.query<{ low: string | null; high: string | null }>(sql`
    SELECT min(block_number)::text AS low, max(block_number)::text AS high FROM journal_entries WHERE chain_id = ${chainId}`);
  const ranges: { fromBlock: bigint | undefined; toBlock: bigint }[] = [];
  let tail: PageStart;
  // Without a stored chain length (no checkpoint row) there is nothing to size the ranges by: keyset pages only.
  if (range?.low != null && range.high != null && expectedEntries > 0) {
    const [low, high] = [BigInt(range.low), BigInt(range.high)];
    // Sized by the chain's length (what the ledger says it holds), not by counting rows first.
    const count = BigInt(Math.max(1, Math.ceil(expectedEntries / pageSize)));
    const span = high - low + 1n;
    const width = span / count + (span % count === 0n ? 0n : 1n);
    // The first range is open below, so postings before the first entry are read (and reported) too.
    for (let from = low; from <= high; from += width)
      ranges.push({ fromBlock: from === low ? undefined : from, toBlock: from + width });
    tail = { fromBlock: ranges[ranges.length - 1]!.toBlock };
  }

  const inFlight: Promise<JournalPage>[] = [];
  let next = 0;
  const startNext = () => {
    const { fromBlock, toBlock } = ranges[next++]!;
    const page = readJournalPage(database, chainId, fromBlock === undefined ? undefined : { fromBlock }, { toBlock });
    // Awaited in order later; a failure meanwhile must not go unhandled.
    page.catch(() => undefined);
    inFlight.push(page);
  };
  while (next < ranges.length && inFlight.length < concurrency) startNext();
  while (inFlight.length > 0) {
    const page = await inFlight.shift()!;
    if (next < ranges.length) startNext();
    yield page;
  }

  // Keyset pages from where the ranges end; the next page is read while this one is hashed.
  let pending = readJournalPage(database, chainId, tail, { limit: pageSize });
  for (;;) {
    const page = await pending;
    const end = page.entries[page.entries.length - 1];
    if (end) {
      pending = readJournalPage(
        database,
        chainId,
        { after: { blockNumber: BigInt(end.block_number), logIndex: end.log_index } },
        { limit: pageSize },
      );
      pending.catch(() => undefined);
    }
    yield page;
    if (!end) return;
  }
}

/**
 * One page: entries from `start` — below a block (`toBlock`, exclusive) or `limit` of them — and the
 * postings of the same key range: every posting row is read once, including postings whose entry is
 * gone. A keyset page that comes back empty reads every posting after `start` (none should be left).
 */
async function readJournalPage(
  database: Database,
  chainId: number,
  start: PageStart,
  end: { toBlock: bigint } | { limit: number },
): Promise<JournalPage> {
  const from =
    start === undefined
      ? sql``
      : "after" in start
        ? sql`AND (block_number, log_index) > (${start.after.blockNumber}, ${start.after.logIndex})`
        : sql`AND block_number >= ${start.fromBlock}`;
  const entries = await database.query<EntryRow>(sql`
    SELECT block_number::text AS block_number, log_index, block_hash, block_timestamp::text AS block_timestamp,
      transaction_hash, token, kind, reference, event, seq::text AS seq, entry_hash, chain_hash
    FROM journal_entries
    WHERE chain_id = ${chainId} ${from}
      ${"toBlock" in end ? sql`AND block_number < ${end.toBlock}` : sql``}
    ORDER BY journal_entries.block_number, journal_entries.log_index
    ${"limit" in end ? sql`LIMIT ${end.limit}` : sql``}`);
  const last = entries[entries.length - 1];
  const to =
    "toBlock" in end
      ? sql`AND block_number < ${end.toBlock}`
      : last
        ? sql`AND (block_number, log_index) <= (${BigInt(last.block_number)}, ${last.log_index})`
        : sql``;
  const postingRows = await database.query<PostingRow>(sql`
    SELECT block_number::text AS block_number, log_index, leg, account, counterparty, token, amount::text AS amount,
      balance_after::text AS balance_after, kind, block_timestamp::text AS block_timestamp
    FROM postings
    WHERE chain_id = ${chainId} ${from} ${to}
    ORDER BY postings.block_number, postings.log_index, postings.leg`);
  return { entries, postingRows };
}

async function readSideElements(database: Database, chainId: number): Promise<SideElement[]> {
  const orphans = await database.query<{
    seq: string;
    block_number: string;
    log_index: number;
    transaction_hash: string;
    entry_hash: string;
    chain_hash: string;
    rollback_seq: string;
  }>(sql`
    SELECT seq::text AS seq, block_number::text AS block_number, log_index, transaction_hash, entry_hash, chain_hash,
      rollback_seq::text AS rollback_seq
    FROM journal_orphans WHERE chain_id = ${chainId} ORDER BY journal_orphans.seq`);
  const rollbacks = await database.query<{
    seq: string;
    ancestor_block: string;
    orphaned_count: number;
    orphaned_from_seq: string | null;
    orphaned_to_seq: string | null;
    content_hash: string;
    chain_hash: string;
  }>(sql`
    SELECT seq::text AS seq, ancestor_block::text AS ancestor_block, orphaned_count, orphaned_from_seq::text AS orphaned_from_seq,
      orphaned_to_seq::text AS orphaned_to_seq, content_hash, chain_hash
    FROM journal_rollbacks WHERE chain_id = ${chainId} ORDER BY journal_rollbacks.seq`);
  const elements: SideElement[] = [
    ...orphans.map((o) => ({
      type: "orphan" as const,
      seq: BigInt(o.seq),
      row: { blockNumber: BigInt(o.block_number), logIndex: o.log_index, transactionHash: o.transaction_hash },
      entryHash: o.entry_hash as Hex,
      chainHash: o.chain_hash as Hex,
      rollbackSeq: BigInt(o.rollback_seq),
    })),
    ...rollbacks.map((r) => ({
      type: "rollback" as const,
      seq: BigInt(r.seq),
      ancestorBlock: BigInt(r.ancestor_block),
      orphanedCount: r.orphaned_count,
      orphanedFromSeq: r.orphaned_from_seq === null ? null : BigInt(r.orphaned_from_seq),
      orphanedToSeq: r.orphaned_to_seq === null ? null : BigInt(r.orphaned_to_seq),
      contentHash: r.content_hash as Hex,
      chainHash: r.chain_hash as Hex,
    })),
  ];
  return elements.sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
}

function toChainedEntry(chainId: number, row: EntryRow, postings: ChainedPosting[]): ChainedEntry {
  return {
    chainId,
    blockNumber: BigInt(row.block_number),
    logIndex: row.log_index,
    blockHash: row.block_hash,
    blockTimestamp: BigInt(row.block_timestamp),
    transactionHash: row.transaction_hash,
    token: row.token,
    kind: row.kind,
    reference: row.reference,
    event: row.event,
    postings,
  };
}

function toChainedPosting(row: PostingRow): ChainedPosting {
  return {
    leg: row.leg,
    account: row.account,
    counterparty: row.counterparty,
    token: row.token,
    amount: BigInt(row.amount),
    balanceAfter: BigInt(row.balance_after),
    kind: row.kind,
    blockTimestamp: BigInt(row.block_timestamp),
  };
}

type FlaggedRow = {
  finding: ChainFinding;
  entry: EntryRow;
  postings: ChainedPosting[];
  row: RowPosition;
  seq: bigint;
  /** The hash its content recomputes to (differs from its stored entry hash). */
  contentHash: Hex;
};

/** Whether two rows each hold the other's content: moved to each other's (block, log index). */
function swapped(chainId: number, a: { entry: EntryRow; postings: ChainedPosting[] }, b: FlaggedRow): boolean {
  const at = (row: EntryRow, other: EntryRow): EntryRow => ({
    ...row,
    block_number: other.block_number,
    log_index: other.log_index,
  });
  return (
    hashJournalEntry(toChainedEntry(chainId, at(a.entry, b.entry), a.postings)) === a.entry.entry_hash &&
    hashJournalEntry(toChainedEntry(chainId, at(b.entry, a.entry), b.postings)) === b.entry.entry_hash
  );
}

function insertedCopy(seq: bigint, row: RowPosition, original: RowPosition | undefined): ChainFinding {
  return {
    kind: "inserted",
    seq,
    row,
    message: `entry${where(row)} claims chain position ${seq}, which ${describe(original)} holds: a copied or inserted row`,
  };
}

function strayPostings(row: PostingRow): ChainFinding {
  const position = { blockNumber: BigInt(row.block_number), logIndex: row.log_index };
  return {
    kind: "inserted",
    row: position,
    message: `posting leg ${row.leg} (${row.account}, ${row.amount})${where(position)} belongs to no journal entry: the entry was deleted or the posting inserted`,
  };
}

function compare(blockA: bigint, logA: number, blockB: bigint, logB: number): number {
  if (blockA !== blockB) return blockA < blockB ? -1 : 1;
  return logA - logB;
}

function where(row: RowPosition | undefined): string {
  if (!row) return "";
  return ` at block ${row.blockNumber}, log ${row.logIndex}${row.transactionHash ? ` (tx ${row.transactionHash})` : ""}`;
}

function describe(row: RowPosition | undefined): string {
  return row ? `the row at block ${row.blockNumber}, log ${row.logIndex}` : "a row not in the ledger";
}

/**
 * Findings in the order a reader walks the ledger: by the row's position, findings without a row
 * (rollback records) by their chain position among them, head mismatches last.
 */
function sortInChainOrder(findings: ChainFinding[], positionOf: (seq: number) => RowPosition | undefined): void {
  const keyOf = (finding: ChainFinding): [number, bigint, number, bigint] => {
    if (finding.kind === "head_mismatch") return [2, 0n, 0, finding.seq ?? 0n];
    const row = finding.row ?? (finding.seq === undefined ? undefined : positionOf(Number(finding.seq)));
    return row ? [0, row.blockNumber, row.logIndex, finding.seq ?? 0n] : [1, 0n, 0, finding.seq ?? 0n];
  };
  const keyed = findings.map((finding) => ({ finding, key: keyOf(finding) }));
  keyed.sort((a, b) => {
    for (let i = 0; i < 4; i++) {
      const [x, y] = [a.key[i]!, b.key[i]!];
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  });
  findings.splice(0, findings.length, ...keyed.map((k) => k.finding));
}
