/**
 * `npm run audit -- tx <hash>`: one transaction, its receipt's logs and the ledger's records side by
 * side, decoded, with a verdict. Input: the node (receipt) and the ledger (entries, chain_events and
 * payment states of that transaction). Output: one row per log of our contracts — the decoded
 * event, the movement the posting rules derive from it, what the ledger holds at that position —
 * plus ledger rows of the transaction no log accounts for.
 */
import { TransactionReceiptNotFoundError, type Hash, type Hex, type PublicClient } from "viem";

import type { Database } from "../../lib/db/database.ts";
import { NotFoundError } from "../../lib/errors/base.ts";
import { toJsonSafe } from "../../lib/ledger/json.ts";
import { journalize } from "../../lib/ledger/posting-rules.ts";
import { contractsByAddress, decodeLog, type AuditedContracts } from "./chain-logs.ts";
import { compareEntry, compareEvent, describeMovement, isRecordedEvent } from "./compare.ts";
import { ledgerEntriesInRange, ledgerEventsInRange, ledgerPaymentEventsInRange } from "./ledger-reads.ts";

export type TransactionRow = {
  logIndex: number;
  /** The decoded log on chain (undefined: a ledger row with no such log). */
  chain?: { contract: string; event: string; args: unknown; movement?: string | undefined } | undefined;
  /** What the ledger holds at this position. */
  ledger: { entry?: string | undefined; event?: string | undefined; paymentState?: string | undefined };
  verdict: "match" | "missing" | "extra" | "differs";
  differences: string[];
};

export type TransactionAudit = {
  kind: "stablerail.transaction-audit";
  ok: boolean;
  chainId: number;
  transactionHash: Hash;
  blockNumber: bigint;
  blockHash: Hex;
  status: "success" | "reverted";
  rows: TransactionRow[];
  verdict: string;
};

/**
 * Audits one transaction.
 * @throws NotFoundError AUDIT_TRANSACTION_NOT_FOUND when the node has no receipt for it
 */
export async function auditTransaction(
  database: Database,
  client: PublicClient,
  { chainId, contracts, transactionHash }: { chainId: number; contracts: AuditedContracts; transactionHash: Hash },
): Promise<TransactionAudit> {
  // Only the node's own "no such receipt" is a not-found: a node that did not answer is rethrown, so
  // the caller can say the audit could not be made rather than that the transaction does not exist.
  const receipt = await client.getTransactionReceipt({ hash: transactionHash }).catch((error: unknown) => {
    if (error instanceof TransactionReceiptNotFoundError) return undefined;
    throw error;
  });
  if (!receipt)
    throw new NotFoundError(
      "AUDIT_TRANSACTION_NOT_FOUND",
      `The node has no receipt for transaction ${transactionHash}`,
    );
  const byAddress = contractsByAddress(contracts);
  const logs = receipt.logs
    .map((log) => decodeLog(chainId, byAddress, log))
    .filter((log) => log !== undefined)
    .sort((a, b) => a.logIndex - b.logIndex);
  const expected = new Map(
    journalize(logs, { escrow: contracts.escrow, settlement: contracts.settlement }).map((entry) => [
      entry.logIndex,
      entry,
    ]),
  );
  const range = { chainId, from: receipt.blockNumber, to: receipt.blockNumber };
  const hash = transactionHash.toLowerCase();
  // The ledger's rows of this transaction, wherever they were recorded (a moved entry shows as extra here).
  const entries = new Map(
    (await ledgerEntriesInRange(database, range))
      .filter((entry) => entry.transactionHash.toLowerCase() === hash)
      .map((entry) => [entry.logIndex, entry]),
  );
  const events = new Map(
    (await ledgerEventsInRange(database, range))
      .filter((event) => event.transactionHash.toLowerCase() === hash)
      .map((event) => [event.logIndex, event]),
  );
  const states = await ledgerPaymentEventsInRange(database, range);

  const rows: TransactionRow[] = [];
  for (const log of logs) {
    const entry = entries.get(log.logIndex);
    const event = events.get(log.logIndex);
    const movement = expected.get(log.logIndex);
    const state = states.get(`${log.blockNumber}:${log.logIndex}`);
    const differences: string[] = [];
    if (movement && !entry) differences.push("no journal entry");
    if (movement && entry)
      for (const d of compareEntry(movement, entry))
        differences.push(`entry ${d.field}: ledger ${d.found}, chain ${d.expected}`);
    if (!event && isRecordedEvent(log.contractName, log.eventName)) differences.push("no chain_events row");
    if (event)
      for (const d of compareEvent(log, event))
        differences.push(`event ${d.field}: ledger ${d.found}, chain ${d.expected}`);
    if (log.contractName === "PaymentEscrow" && state !== String(log.args.paymentId).toLowerCase())
      differences.push("no payment-state row");
    entries.delete(log.logIndex);
    events.delete(log.logIndex);
    rows.push({
      logIndex: log.logIndex,
      chain: {
        contract: log.contractName,
        event: log.eventName,
        args: toJsonSafe(log.args),
        movement: movement ? describeMovement(movement.postings, movement.kind) : undefined,
      },
      ledger: {
        entry: entry ? describeMovement(entry.postings, entry.kind) : undefined,
        event: event?.eventName,
        paymentState: state,
      },
      verdict: differences.length === 0 ? "match" : !entry && !event ? "missing" : "differs",
      differences,
    });
  }
  for (const logIndex of new Set([...entries.keys(), ...events.keys()])) {
    const entry = entries.get(logIndex);
    rows.push({
      logIndex,
      ledger: {
        entry: entry ? describeMovement(entry.postings, entry.kind) : undefined,
        event: events.get(logIndex)?.eventName,
      },
      verdict: "extra",
      differences: ["no such log on chain"],
    });
  }
  rows.sort((a, b) => a.logIndex - b.logIndex);
  const bad = rows.filter((row) => row.verdict !== "match");
  return {
    kind: "stablerail.transaction-audit",
    ok: bad.length === 0,
    chainId,
    transactionHash,
    blockNumber: receipt.blockNumber,
    blockHash: receipt.blockHash,
    status: receipt.status,
    rows,
    verdict:
      bad.length === 0
        ? `the ledger records this transaction exactly: ${rows.length} logs, ${rows.filter((r) => r.chain?.movement).length} movements`
        : `${bad.length} of ${rows.length} rows disagree: ${bad.map((row) => `log ${row.logIndex} ${row.verdict}`).join(", ")}`,
  };
}
