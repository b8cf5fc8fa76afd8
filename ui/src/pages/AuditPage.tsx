/**
 * The auditor's desk: a reconciliation of the ledger with the chain at a block, read with every
 * mismatch (GET /v1/audit/reconciliation); the journal's hash chain verified (GET
 * /v1/audit/journal-chain); the proof of reserves built (GET /v1/audit/reserves); any indexed
 * transaction with its journal entries and postings, and the payout batches. Each /v1/audit
 * section shows when the server lists its route in /ui-config.json, as does the audit log of
 * privileged and security actions (GET /v1/audit-log, for operators, auditors and admins).
 */
import { Fragment, type ComponentChildren } from "preact";
import { useState } from "preact/hooks";

import { api } from "../http/client.ts";
import type { Page, Payout } from "../http/types.ts";
import { Address } from "../components/Address.tsx";
import { AuditLog } from "../components/AuditLog.tsx";
import { Amount } from "../components/Amount.tsx";
import { Field } from "../components/Field.tsx";
import { Main } from "../components/Main.tsx";
import { MovementStatus } from "../components/MovementStatus.tsx";
import { Empty, ErrorNotice, Loading, Section } from "../components/States.tsx";
import { Time } from "../components/Time.tsx";
import { hasFeature, useConfig } from "../core/config.ts";
import { useAsync } from "../core/use-async.ts";

type Mismatch = {
  check: string;
  account?: string;
  field?: string;
  expected: string;
  found: string;
  message: string;
  firstDivergentBlock?: string;
};
type Reconciliation = {
  ok: boolean;
  block?: { number: string; hash: string };
  totals?: Record<string, number>;
  firstDivergentBlock?: string | null;
  mismatches: Mismatch[];
  durationMs?: number;
};
type ChainReport = {
  ok: boolean;
  checked?: Record<string, number>;
  findings?: { kind: string; seq?: string; message?: string }[];
};

function Unavailable({ children }: { children: ComponentChildren }) {
  return <p class="notice">{children} This server does not offer it yet; it appears here when it does.</p>;
}

function ReconciliationReport({ report }: { report: Reconciliation }) {
  return (
    <div class="report" data-testid="reconciliation-report" data-ok={String(report.ok)}>
      <p class={report.ok ? "success" : "bad"} role="status">
        {report.ok ? "Clean: the ledger agrees with the chain." : `${report.mismatches.length} mismatch(es) found.`}
        {report.block ? ` At block ${report.block.number}.` : ""}
      </p>
      {report.totals ? (
        <dl class="facts">
          {Object.entries(report.totals).map(([name, value]) => (
            <Fragment key={name}>
              <dt>{name}</dt>
              <dd>{value}</dd>
            </Fragment>
          ))}
        </dl>
      ) : null}
      {report.mismatches.length > 0 ? (
        <div class="table-wrap">
          <table>
            <caption>Mismatches (chain vs ledger)</caption>
            <thead>
              <tr>
                <th scope="col">Check</th>
                <th scope="col">Account</th>
                <th scope="col">Chain says</th>
                <th scope="col">Ledger holds</th>
                <th scope="col">First divergent block</th>
                <th scope="col">What</th>
              </tr>
            </thead>
            <tbody>
              {report.mismatches.map((m, i) => (
                <tr key={i}>
                  <td>{m.check}</td>
                  <td>{m.account ? <Address value={m.account.replace(/^\w+:/, "")} label="account" /> : "—"}</td>
                  <td>{m.expected}</td>
                  <td>{m.found}</td>
                  <td>{m.firstDivergentBlock ?? "—"}</td>
                  <td>{m.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}

function Reconcile() {
  const [block, setBlock] = useState("");
  const [report, setReport] = useState<Reconciliation>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const run = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setReport(undefined);
    try {
      // GET /v1/audit/reconciliation: a read, the same report as `npm run audit -- reconcile --format json`.
      const query = block.trim() ? `?${new URLSearchParams({ block: block.trim() })}` : "";
      const answer = await api<{ report?: Reconciliation } & Partial<Reconciliation>>(
        "GET",
        `/v1/audit/reconciliation${query}`,
      );
      setReport((answer.report ?? answer) as Reconciliation);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div>
      <form onSubmit={run} class="inline-form">
        <Field
          id="reconcile-block"
          label="At block"
          inputMode="numeric"
          hint="Empty: the ledger's indexed head."
          value={block}
          onInput={setBlock}
        />
        <button type="submit" disabled={busy}>
          {busy ? "Reconciling…" : "Run reconciliation"}
        </button>
      </form>
      {busy ? <Loading what="Reading the chain and the ledger" /> : null}
      {error ? <ErrorNotice error={error} /> : null}
      {report ? <ReconciliationReport report={report} /> : null}
    </div>
  );
}

function VerifyChain({ path, label }: { path: string; label: string }) {
  const [report, setReport] = useState<ChainReport>();
  const [error, setError] = useState<unknown>();
  const verify = async () => {
    setError(undefined);
    try {
      // Both chains are verified by a read (GET): nothing is written.
      setReport(await api<ChainReport>("GET", path));
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <div>
      <button type="button" onClick={() => void verify()}>
        {label}
      </button>
      {error ? <ErrorNotice error={error} /> : null}
      {report ? (
        <p class={report.ok || (report as { valid?: boolean }).valid ? "success" : "bad"} role="status">
          {report.ok || (report as { valid?: boolean }).valid
            ? "Intact: every row recomputes to the stored head."
            : `Broken: ${report.findings?.[0]?.message ?? (report as { problem?: string }).problem ?? "a row was changed"}.`}
        </p>
      ) : null}
    </div>
  );
}

type ReservesReport = {
  block: { number: string; hash: string };
  root: string;
  totalLiabilities: string;
  reserves: string;
  ratio: string;
  users: number;
};

/** GET /v1/audit/reserves: the proof of reserves at the indexed head, built and shown, not published. */
function ProofOfReserves() {
  const [report, setReport] = useState<ReservesReport>();
  const [error, setError] = useState<unknown>();
  const build = async () => {
    setError(undefined);
    try {
      setReport(await api<ReservesReport>("GET", "/v1/audit/reserves"));
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <div>
      <button type="button" onClick={() => void build()}>
        Build the proof of reserves
      </button>
      {error ? <ErrorNotice error={error} /> : null}
      {report ? (
        <dl class="facts" data-testid="reserves-report">
          <dt>At block</dt>
          <dd>{report.block.number}</dd>
          <dt>Custodial liabilities</dt>
          <dd>
            <Amount units={report.totalLiabilities} />
          </dd>
          <dt>Reserves</dt>
          <dd>
            <Amount units={report.reserves} />
          </dd>
          <dt>Reserves / liabilities</dt>
          <dd>{report.ratio}</dd>
          <dt>Users in the tree</dt>
          <dd>{report.users}</dd>
          <dt>Merkle sum root</dt>
          <dd>
            <Address value={report.root} label="Merkle root" />
          </dd>
        </dl>
      ) : null}
    </div>
  );
}

function TransactionLookup() {
  const [hash, setHash] = useState("");
  const [found, setFound] = useState<{
    transactionHash: string;
    entries: {
      kind: string;
      blockNumber: string;
      blockTimestamp: string;
      logIndex: number;
      postings: { account: string; amount: string }[];
    }[];
  }>();
  const [error, setError] = useState<unknown>();
  const look = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    setFound(undefined);
    try {
      setFound(await api("GET", `/v1/transactions/${encodeURIComponent(hash.trim())}`));
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <div>
      <form onSubmit={look} class="inline-form">
        <Field id="tx-hash" label="Transaction hash" spellcheck={false} value={hash} onInput={setHash} />
        <button type="submit">Look up</button>
      </form>
      {error ? <ErrorNotice error={error} /> : null}
      {found ? (
        <ol class="list">
          {found.entries.map((entry) => (
            <li key={entry.logIndex}>
              <strong>{entry.kind}</strong> (block {entry.blockNumber}, log {entry.logIndex},{" "}
              <Time value={Number(entry.blockTimestamp)} />)
              <ul>
                {entry.postings.map((p) => (
                  <li key={p.account}>
                    <code>{p.account}</code>: <Amount units={p.amount} sign />
                  </li>
                ))}
              </ul>
            </li>
          ))}
        </ol>
      ) : null}
    </div>
  );
}

function Payouts() {
  const payouts = useAsync((signal) => api<Page<Payout>>("GET", "/v1/payouts?limit=20", { signal }), []);
  if (payouts.error) return <ErrorNotice error={payouts.error} onRetry={payouts.reload} />;
  if (!payouts.data) return <Loading what="Loading payouts" />;
  if (payouts.data.items.length === 0) return <Empty>No payout batches yet.</Empty>;
  return (
    <ul class="list">
      {payouts.data.items.map((p) => (
        <li key={p.id}>
          <Amount units={p.total} /> to {p.items.length} merchant(s) — <MovementStatus status={p.status} /> —{" "}
          <Time value={p.createdAt} />
        </li>
      ))}
    </ul>
  );
}

export function AuditPage() {
  const { config } = useConfig();
  return (
    <Main title="Audit" lead="Check the ledger against the chain, and that nobody rewrote it.">
      <Section title="Reconciliation">
        {hasFeature(config, "auditReconciliations") ? (
          <Reconcile />
        ) : (
          <Unavailable>Reconciling the ledger with the chain at a block.</Unavailable>
        )}
      </Section>
      <div class="grid two">
        <Section title="Journal hash chain">
          {hasFeature(config, "auditJournalChain") ? (
            <VerifyChain path="/v1/audit/journal-chain" label="Verify the journal's hash chain" />
          ) : (
            <Unavailable>Recomputing the journal's hash chain.</Unavailable>
          )}
        </Section>
        <Section title="Proof of reserves">
          {hasFeature(config, "auditReserves") ? (
            <ProofOfReserves />
          ) : (
            <Unavailable>Building the proof of reserves (a Merkle sum tree of custodial balances).</Unavailable>
          )}
        </Section>
      </div>
      {hasFeature(config, "auditLog") ? (
        <Section title="Audit log">
          <AuditLog />
        </Section>
      ) : null}
      <div class="grid two">
        <Section title="A transaction in the ledger">
          <TransactionLookup />
        </Section>
        <Section title="Payout batches">
          <Payouts />
        </Section>
      </div>
    </Main>
  );
}
