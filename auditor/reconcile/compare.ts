/**
 * How a ledger record is compared with what the chain says it must be (pure): a journal entry with
 * the entry the posting rules derive from its Transfer, a chain_events row with the decoded log.
 * Each returns the fields that differ, with both values.
 */
import { canonicalJson } from "../../lib/ledger/canonical-json.ts";
import type { DecodedLog, JournalEntry } from "../../lib/ledger/types.ts";
import type { StoredEntry, StoredEvent } from "./ledger-reads.ts";

/** The events the ledger must record as chain_events rows (besides every Transfer). */
const RECORDED_EVENTS: Record<string, ReadonlySet<string>> = {
  PaymentEscrow: new Set([
    "PaymentAuthorized",
    "PaymentCaptured",
    "PaymentVoided",
    "PaymentReclaimed",
    "PaymentRefunded",
  ]),
  Settlement: new Set([
    "PayoutItemPaid",
    "PayoutBatchExecuted",
    "AuthorizationSettled",
    "AuthorizationFailed",
    "AuthorizationsSkipped",
  ]),
  Stablecoin: new Set(["Transfer"]),
};

/** Whether the ledger must hold a chain_events row for this event (the others it may or may not record). */
export function isRecordedEvent(contractName: string, eventName: string): boolean {
  return RECORDED_EVENTS[contractName]?.has(eventName) ?? false;
}

export type Difference = { field: string; expected: string; found: string };

export function compareEntry(expected: JournalEntry, stored: StoredEntry): Difference[] {
  const differences: Difference[] = [];
  const check = (field: string, chain: unknown, ledger: unknown) => {
    if (String(chain) !== String(ledger)) differences.push({ field, expected: String(chain), found: String(ledger) });
  };
  check("block_hash", expected.blockHash.toLowerCase(), stored.blockHash.toLowerCase());
  check("transaction_hash", expected.transactionHash.toLowerCase(), stored.transactionHash.toLowerCase());
  check("token", expected.token, stored.token);
  check("kind", expected.kind, stored.kind);
  check("reference", expected.reference?.toLowerCase() ?? null, stored.reference?.toLowerCase() ?? null);
  const legs = [...stored.postings].sort((a, b) => a.leg - b.leg);
  if (legs.length !== 2) differences.push({ field: "postings", expected: "2 legs", found: `${legs.length} legs` });
  expected.postings.forEach((posting, leg) => {
    const found = legs.find((p) => p.leg === leg);
    if (!found) return;
    check(`leg ${leg} account`, posting.account, found.account);
    check(`leg ${leg} counterparty`, posting.counterparty, found.counterparty);
    check(`leg ${leg} amount`, posting.amount, found.amount);
  });
  if (canonicalJson(expected.event) !== canonicalJson(stored.event))
    differences.push({ field: "event", expected: canonicalJson(expected.event), found: canonicalJson(stored.event) });
  return differences;
}

export function compareEvent(log: DecodedLog, stored: StoredEvent): Difference[] {
  const differences: Difference[] = [];
  const check = (field: string, chain: string, ledger: string) => {
    if (chain !== ledger) differences.push({ field, expected: chain, found: ledger });
  };
  check("block_hash", log.blockHash.toLowerCase(), stored.blockHash.toLowerCase());
  check("transaction_hash", log.transactionHash.toLowerCase(), stored.transactionHash.toLowerCase());
  check("contract", log.address.toLowerCase(), stored.contract.toLowerCase());
  check("event_name", log.eventName, stored.eventName);
  check("args", canonicalJson(log.args), canonicalJson(stored.args));
  return differences;
}

export function describeMovement(postings: readonly { account: string; amount: bigint }[], kind: string): string {
  const debit = postings.find((p) => p.amount < 0n) ?? postings[0];
  const credit = postings.find((p) => p.amount > 0n) ?? postings[1];
  return `${debit?.account ?? "?"} → ${credit?.account ?? "?"} ${credit?.amount ?? 0n} (${kind})`;
}
