/**
 * Human-readable reports (Markdown): totals first, then every mismatch or finding in a table, so an
 * auditor can read what is wrong without the JSON. One renderer per report kind.
 */
import type { VerifyChainReport } from "../journal-chain/verify-chain.ts";
import type { TransactionAudit } from "../reconcile/audit-transaction.ts";
import type { ReconciliationReport } from "../reconcile/reconcile-ledger.ts";
import type { ReservesReport } from "../reserves/reserves-report.ts";

const cell = (value: unknown) =>
  String(value ?? "")
    .replace(/\|/g, "\\|")
    .replace(/\n/g, " ");
const table = (headers: string[], rows: unknown[][]) =>
  [
    `| ${headers.join(" | ")} |`,
    `| ${headers.map(() => "---").join(" | ")} |`,
    ...rows.map((row) => `| ${row.map(cell).join(" | ")} |`),
  ].join("\n");

/** The reconciliation report as Markdown. */
export function renderReconciliationMarkdown(report: ReconciliationReport): string {
  const t = report.totals;
  const lines = [
    `# Reconciliation of chain ${report.chainId} at block ${report.block.number}: ${report.ok ? "the ledger equals the chain" : `${t.mismatches} mismatch${t.mismatches === 1 ? "" : "es"}`}`,
    "",
    `Block ${report.block.number} is \`${report.block.hash}\` on the node${report.block.ledgerHash ? ` and \`${report.block.ledgerHash}\` in the ledger` : ""}. ` +
      `Indexed head ${report.indexedHead.number}; journal chain head element ${report.journalHead.seq} \`${report.journalHead.hash ?? "(empty)"}\`. ` +
      `Generated ${report.generatedAt} in ${(report.durationMs / 1000).toFixed(1)} s; reads through ${report.reads.mode}${report.reads.multicallAddress ? ` at ${report.reads.multicallAddress}` : ""}.`,
    "",
    table(
      ["checked", "count"],
      [
        ["accounts and tokens (balances at the block)", t.accounts],
        ["of which holders read with balanceOf", t.holders],
        ["escrow payments (paymentState)", t.payments],
        [
          `logs on chain${report.range ? `, blocks ${report.range.from}–${report.range.to}` : " (completeness skipped)"}`,
          t.logs,
        ],
        ["Transfers / journal entries", `${t.transfers} / ${t.entries}`],
        ["chain_events rows", t.events],
        ["mismatches", t.mismatches],
      ],
    ),
    "",
    table(
      ["token", "totalSupply", "Σ holders (ledger)", "Σ holders (chain)"],
      report.tokens.map((token) => [token.token, token.totalSupply, token.ledgerHolders, token.chainHolders]),
    ),
  ];
  if (!report.ok) {
    lines.push(
      "",
      `## Mismatches (first divergent block: ${report.firstDivergentBlock ?? "unknown"})`,
      "",
      table(
        [
          "first divergent block",
          "check",
          "account / payment",
          "token",
          "log",
          "field",
          "chain (expected)",
          "ledger (found)",
          "what",
        ],
        report.mismatches.map((m) => [
          m.firstDivergentBlock ?? "",
          m.check,
          m.paymentId ?? m.account ?? "",
          m.token ?? "",
          m.position ? `${m.position.blockNumber}:${m.position.logIndex}` : "",
          m.field ?? "",
          m.expected,
          m.found,
          m.message,
        ]),
      ),
    );
  }
  return `${lines.join("\n")}\n`;
}

/** The transaction audit as Markdown: the receipt's logs and the ledger's rows side by side. */
export function renderTransactionMarkdown(audit: TransactionAudit): string {
  return `${[
    `# Transaction \`${audit.transactionHash}\`: ${audit.ok ? "matches the ledger" : "does not match the ledger"}`,
    "",
    `Block ${audit.blockNumber} (\`${audit.blockHash}\`), status ${audit.status}. ${audit.verdict}.`,
    "",
    table(
      ["log", "chain: event", "chain: movement", "ledger: entry", "ledger: event", "verdict", "differences"],
      audit.rows.map((row) => [
        row.logIndex,
        row.chain ? `${row.chain.contract}.${row.chain.event}` : "—",
        row.chain?.movement ?? "",
        row.ledger.entry ?? "",
        row.ledger.event ?? "",
        row.verdict,
        row.differences.join("; "),
      ]),
    ),
  ].join("\n")}\n`;
}

/** The journal chain verification as Markdown. */
export function renderChainMarkdown(report: VerifyChainReport): string {
  const lines = [
    `# Journal hash chain of chain ${report.chainId}: ${report.ok ? "intact" : `${report.findings.length}${report.truncated ? "+" : ""} finding(s)`}`,
    "",
    `Recomputed head: element ${report.head.seq} \`${report.head.hash}\`; stored head: element ${report.storedHead.seq} \`${report.storedHead.hash}\`.`,
    "",
    table(
      ["read", "rows"],
      [
        ["journal entries", report.checked.entries],
        ["postings", report.checked.postings],
        ["orphaned entries (reorgs)", report.checked.orphans],
        ["rollback records", report.checked.rollbacks],
      ],
    ),
  ];
  if (!report.ok) {
    lines.push(
      "",
      `## Findings (first: ${report.first?.message ?? ""})`,
      "",
      table(
        ["kind", "element", "row", "what"],
        report.findings.map((f) => [
          f.kind,
          f.seq ?? "",
          f.row ? `${f.row.blockNumber}:${f.row.logIndex}` : "",
          f.message,
        ]),
      ),
    );
  }
  return `${lines.join("\n")}\n`;
}

/** The reserves and liabilities report as Markdown. */
export function renderReservesMarkdown(report: ReservesReport): string {
  return `${[
    `# Proof of reserves of chain ${report.chainId} at block ${report.block.number}: ratio ${report.ratio}`,
    "",
    table(
      ["", "value"],
      [
        ["Merkle sum tree root", report.root],
        ["total liabilities (Σ custodial balances in the ledger)", report.totalLiabilities],
        ["reserves (Σ balanceOf of the custodial addresses on chain)", report.reserves],
        ["reserves / liabilities", report.ratio],
        ["custodial users (leaves) / addresses", `${report.users} / ${report.addresses}`],
        ["token", report.token],
        ["block", `${report.block.number} \`${report.block.hash}\``],
        ["journal chain head", `element ${report.journalHead.seq} \`${report.journalHead.hash ?? "(empty)"}\``],
      ],
    ),
    "",
    "Each custodial user verifies their own inclusion with `npm run audit -- verify-proof proof.json`, offline.",
  ].join("\n")}\n`;
}
