/**
 * Completeness both ways over a block range: every Transfer of the token on chain has exactly one
 * journal entry that records the same movement (same block hash, transaction, log index, token,
 * accounts, amount, kind, reference and event), and every entry stands for such a Transfer; every
 * Transfer, escrow and settlement event has its chain_events row, and every escrow event its
 * payment-state row; no chain_events row lacks its event. An entry recorded at another block than
 * its log is reported as moved (matched by transaction hash and log index).
 *
 * The expected entries come from the chain's logs through the posting rules (lib/ledger/
 * posting-rules.ts, pure): the auditor derives what the ledger must hold from the node alone, then
 * compares it with what the ledger holds. Input: a public client, the ledger, a range. Output: counts
 * and mismatches, each with its block (the first divergent block of a completeness mismatch is the
 * block of its log, or the earlier of the two blocks of a moved entry).
 */
import { getAddress, type Address, type PublicClient } from "viem";

import type { Database } from "../../lib/db/database.ts";
import { journalize } from "../../lib/ledger/posting-rules.ts";
import type { DecodedLog, JournalEntry } from "../../lib/ledger/types.ts";
import type { Progress } from "../report/progress.ts";
import { chainLogWindows, type AuditedContracts } from "./chain-logs.ts";
import {
  ledgerEntriesInRange,
  ledgerEventsInRange,
  ledgerPaymentEventsInRange,
  type StoredEntry,
  type StoredEvent,
} from "./ledger-reads.ts";
import { compareEntry, compareEvent, describeMovement, isRecordedEvent } from "./compare.ts";
import type { Mismatch } from "./mismatch.ts";

export type CompletenessResult = {
  from: bigint;
  to: bigint;
  /** Logs of our contracts decoded from the chain, of which Transfers of the token. */
  logs: number;
  transfers: number;
  /** Journal entries and chain_events rows read from the ledger. */
  entries: number;
  events: number;
  mismatches: Mismatch[];
};

/**
 * Checks completeness over `from..to`.
 * @param parameters.contracts - token, escrow and settlement addresses (from the deployment)
 */
export async function checkCompleteness({
  database,
  client,
  chainId,
  contracts,
  from,
  to,
  progress,
}: {
  database: Database;
  client: PublicClient;
  chainId: number;
  contracts: AuditedContracts;
  from: bigint;
  to: bigint;
  progress?: Progress | undefined;
}): Promise<CompletenessResult> {
  const result: CompletenessResult = { from, to, logs: 0, transfers: 0, entries: 0, events: 0, mismatches: [] };
  const context = { escrow: contracts.escrow, settlement: contracts.settlement };
  const token = getAddress(contracts.token);
  // Unmatched on either side, kept until the end to pair entries moved to another block.
  const missing = new Map<string, { expected: JournalEntry }>();
  const extra = new Map<string, { stored: StoredEntry }>();
  const missingEvents = new Map<string, DecodedLog>();
  const extraEvents = new Map<string, StoredEvent>();

  progress?.start(Number(to - from + 1n), "blocks", "completeness");
  // The node fetches the next window's logs while the ledger's side of this one is read and compared,
  // and the three ledger reads of a window run at once (on a pool they overlap; PGlite queues them).
  const windows = chainLogWindows(client, { chainId, contracts, from, to });
  let pending = windows.next();
  for (;;) {
    const step = await pending;
    if (step.done) break;
    const window = step.value;
    pending = windows.next();
    pending.catch(() => undefined); // awaited next turn; not unhandled while this window is compared
    const range = { chainId, from: window.from, to: window.to };
    const ledgerSide = Promise.all([
      ledgerEntriesInRange(database, range),
      ledgerEventsInRange(database, range),
      ledgerPaymentEventsInRange(database, range),
    ]);
    result.logs += window.logs.length;
    const expectedEntries = journalize(window.logs, context).filter((entry) => entry.token === token);
    result.transfers += expectedEntries.length;
    const [storedEntries, storedEvents, paymentEvents] = await ledgerSide;
    result.entries += storedEntries.length;
    result.events += storedEvents.length;

    const stored = new Map(storedEntries.map((entry) => [key(entry.blockNumber, entry.logIndex), entry]));
    for (const expected of expectedEntries) {
      const position = key(expected.blockNumber, expected.logIndex);
      const entry = stored.get(position);
      if (!entry) {
        missing.set(`${expected.transactionHash}:${expected.logIndex}`, { expected });
        continue;
      }
      stored.delete(position);
      const differences = compareEntry(expected, entry);
      if (differences.length > 0)
        result.mismatches.push({
          check: "entry_differs",
          account: expected.postings[1].account,
          token: expected.token,
          position: {
            blockNumber: expected.blockNumber,
            logIndex: expected.logIndex,
            transactionHash: expected.transactionHash,
          },
          field: differences.map((d) => d.field).join(", "),
          expected: differences.map((d) => `${d.field}=${d.expected}`).join("; "),
          found: differences.map((d) => `${d.field}=${d.found}`).join("; "),
          firstDivergentBlock: expected.blockNumber,
          message: `the entry at block ${expected.blockNumber}, log ${expected.logIndex} (tx ${expected.transactionHash}) differs from its Transfer: ${differences.map((d) => `${d.field} is ${d.found}, the chain says ${d.expected}`).join("; ")}`,
        });
    }
    for (const entry of stored.values()) extra.set(`${entry.transactionHash}:${entry.logIndex}`, { stored: entry });

    const events = new Map(storedEvents.map((event) => [key(event.blockNumber, event.logIndex), event]));
    for (const log of window.logs) {
      const position = key(log.blockNumber, log.logIndex);
      const event = events.get(position);
      const recorded = isRecordedEvent(log.contractName, log.eventName);
      if (log.contractName === "PaymentEscrow" && recorded) {
        const paymentId = paymentEvents.get(position);
        if (paymentId !== String(log.args.paymentId).toLowerCase())
          result.mismatches.push({
            check: "missing_event",
            paymentId: log.args.paymentId as `0x${string}`,
            position: { blockNumber: log.blockNumber, logIndex: log.logIndex, transactionHash: log.transactionHash },
            field: "escrow_payment_states",
            expected: `${log.eventName} of payment ${String(log.args.paymentId)}`,
            found: paymentId ? `a state of payment ${paymentId}` : "no payment state",
            firstDivergentBlock: log.blockNumber,
            message: `${log.eventName} at block ${log.blockNumber}, log ${log.logIndex} has no payment-state row in the ledger`,
          });
        paymentEvents.delete(position);
      }
      if (!event) {
        if (recorded) missingEvents.set(`${log.transactionHash}:${log.logIndex}`, log);
        continue;
      }
      events.delete(position);
      const differences = compareEvent(log, event);
      if (differences.length > 0)
        result.mismatches.push({
          check: "event_differs",
          position: { blockNumber: log.blockNumber, logIndex: log.logIndex, transactionHash: log.transactionHash },
          field: differences.map((d) => d.field).join(", "),
          expected: differences.map((d) => `${d.field}=${d.expected}`).join("; "),
          found: differences.map((d) => `${d.field}=${d.found}`).join("; "),
          firstDivergentBlock: log.blockNumber,
          message: `the chain_events row at block ${log.blockNumber}, log ${log.logIndex} differs from the chain's ${log.eventName}: ${differences.map((d) => d.field).join(", ")}`,
        });
    }
    for (const event of events.values()) extraEvents.set(`${event.transactionHash}:${event.logIndex}`, event);
    for (const [position, paymentId] of paymentEvents) {
      const [block, logIndex] = position.split(":") as [string, string];
      result.mismatches.push({
        check: "extra_event",
        paymentId: paymentId as `0x${string}`,
        position: { blockNumber: BigInt(block), logIndex: Number(logIndex) },
        field: "escrow_payment_states",
        expected: "no escrow event there",
        found: `a state of payment ${paymentId}`,
        firstDivergentBlock: BigInt(block),
        message: `a payment-state row of ${paymentId} at block ${block}, log ${logIndex} has no escrow event on chain`,
      });
    }
    progress?.tick(Number(window.to - window.from + 1n));
  }
  progress?.done();

  // Pair what is missing at one block with what is extra at another: the same log, moved.
  for (const [id, { expected }] of missing) {
    const moved = extra.get(id);
    if (moved) {
      extra.delete(id);
      const first = moved.stored.blockNumber < expected.blockNumber ? moved.stored.blockNumber : expected.blockNumber;
      result.mismatches.push({
        check: "moved_entry",
        account: expected.postings[1].account,
        token: expected.token,
        position: {
          blockNumber: expected.blockNumber,
          logIndex: expected.logIndex,
          transactionHash: expected.transactionHash,
        },
        field: "block_number",
        expected: expected.blockNumber.toString(),
        found: moved.stored.blockNumber.toString(),
        firstDivergentBlock: first,
        message: `the entry of tx ${expected.transactionHash}, log ${expected.logIndex} is recorded at block ${moved.stored.blockNumber}; its Transfer is at block ${expected.blockNumber}`,
      });
      continue;
    }
    result.mismatches.push({
      check: "missing_entry",
      account: expected.postings[1].account,
      token: expected.token,
      position: {
        blockNumber: expected.blockNumber,
        logIndex: expected.logIndex,
        transactionHash: expected.transactionHash,
      },
      expected: describeMovement(expected.postings, expected.kind),
      found: "no entry",
      firstDivergentBlock: expected.blockNumber,
      message: `the Transfer at block ${expected.blockNumber}, log ${expected.logIndex} (tx ${expected.transactionHash}: ${describeMovement(expected.postings, expected.kind)}) has no journal entry`,
    });
  }
  for (const { stored } of extra.values()) {
    result.mismatches.push({
      check: "extra_entry",
      account: stored.postings.find((p) => p.leg === 1)?.account,
      token: getAddress(stored.token) as Address,
      position: { blockNumber: stored.blockNumber, logIndex: stored.logIndex, transactionHash: stored.transactionHash },
      expected: "no Transfer there",
      found: describeMovement(stored.postings, stored.kind),
      firstDivergentBlock: stored.blockNumber,
      message: `the journal entry at block ${stored.blockNumber}, log ${stored.logIndex} (tx ${stored.transactionHash}: ${describeMovement(stored.postings, stored.kind)}) has no such Transfer on chain`,
    });
  }
  for (const [id, log] of missingEvents) {
    const moved = extraEvents.get(id);
    if (moved) extraEvents.delete(id);
    result.mismatches.push({
      check: moved ? "event_differs" : "missing_event",
      position: { blockNumber: log.blockNumber, logIndex: log.logIndex, transactionHash: log.transactionHash },
      field: moved ? "block_number" : "chain_events",
      expected: moved ? log.blockNumber.toString() : `${log.contractName}.${log.eventName}`,
      found: moved ? moved.blockNumber.toString() : "no row",
      firstDivergentBlock: moved && moved.blockNumber < log.blockNumber ? moved.blockNumber : log.blockNumber,
      message: moved
        ? `the ${log.eventName} of tx ${log.transactionHash}, log ${log.logIndex} is recorded at block ${moved.blockNumber}; it is at block ${log.blockNumber}`
        : `${log.contractName}.${log.eventName} at block ${log.blockNumber}, log ${log.logIndex} (tx ${log.transactionHash}) has no chain_events row`,
    });
  }
  for (const event of extraEvents.values()) {
    result.mismatches.push({
      check: "extra_event",
      position: { blockNumber: event.blockNumber, logIndex: event.logIndex, transactionHash: event.transactionHash },
      field: "chain_events",
      expected: "no event there",
      found: event.eventName,
      firstDivergentBlock: event.blockNumber,
      message: `the chain_events row ${event.eventName} at block ${event.blockNumber}, log ${event.logIndex} has no such event on chain`,
    });
  }
  return result;
}

function key(block: bigint, logIndex: number): string {
  return `${block}:${logIndex}`;
}
