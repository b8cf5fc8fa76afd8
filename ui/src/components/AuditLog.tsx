/**
 * The audit log for staff (GET /v1/audit-log, newest first, filtered by action or actor; GET
 * /v1/audit-log/verify recomputes its hash chain): who did what, when, from where, and whether it
 * succeeded. Pages go back with the API's cursor ("Older entries"). The API offers the log to
 * operators, auditors and admins only; a user's own security history has no route yet.
 */
import { useState } from "preact/hooks";

import { api } from "../http/client.ts";
import { Address } from "./Address.tsx";
import { Field } from "./Field.tsx";
import { Empty, ErrorNotice, Loading } from "./States.tsx";
import { Time } from "./Time.tsx";
import { useAsync } from "../core/use-async.ts";

type Entry = {
  seq: string;
  at: string;
  actor: { userId: string; role: string | null; credentialId: string | null } | null;
  action: string;
  target: string | null;
  outcome: "success" | "failure";
  ip: string | null;
  userAgent: string | null;
  details: Record<string, unknown>;
  hash: string;
};
type Verified = { valid: boolean; entries: number; headHash: string; firstInvalidSeq?: string; problem?: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function Verify() {
  const [report, setReport] = useState<Verified>();
  const [error, setError] = useState<unknown>();
  const verify = async () => {
    setError(undefined);
    try {
      setReport(await api<Verified>("GET", "/v1/audit-log/verify"));
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <div>
      <button type="button" class="secondary" onClick={() => void verify()}>
        Verify the audit log's hash chain
      </button>
      {error ? <ErrorNotice error={error} /> : null}
      {report ? (
        <p class={report.valid ? "success" : "bad"} role="status" data-testid="audit-log-verified">
          {report.valid
            ? `Intact: all ${report.entries} entries recompute to the stored head.`
            : `Broken at entry ${report.firstInvalidSeq ?? "?"}: a row was ${report.problem ?? "changed"}.`}
        </p>
      ) : null}
    </div>
  );
}

export function AuditLog() {
  const [action, setAction] = useState("");
  const [actorId, setActorId] = useState("");
  const [filter, setFilter] = useState<{ action: string; actorId: string }>({ action: "", actorId: "" });
  const [older, setOlder] = useState<Entry[]>([]);
  const [cursor, setCursor] = useState<string | null>();
  const [actorProblem, setActorProblem] = useState<string>();
  const [moreError, setMoreError] = useState<unknown>();

  const query = (at?: string | null) => {
    const q = new URLSearchParams({ limit: "25" });
    if (filter.action) q.set("action", filter.action);
    if (filter.actorId) q.set("actorId", filter.actorId);
    if (at) q.set("cursor", at);
    return `/v1/audit-log?${q}`;
  };
  const first = useAsync(
    (signal) => api<{ items: Entry[]; nextCursor: string | null }>("GET", query(), { signal }),
    [filter.action, filter.actorId],
  );
  const next = cursor === undefined ? first.data?.nextCursor : cursor;
  const entries = [...(first.data?.items ?? []), ...older];

  const apply = (event: Event) => {
    event.preventDefault();
    const actor = actorId.trim();
    if (actor && !UUID.test(actor)) {
      setActorProblem("An actor is a user id (a UUID), as shown in the list.");
      return;
    }
    setActorProblem(undefined);
    setOlder([]);
    setCursor(undefined);
    setFilter({ action: action.trim(), actorId: actor });
  };
  const loadOlder = async () => {
    setMoreError(undefined);
    try {
      const page = await api<{ items: Entry[]; nextCursor: string | null }>("GET", query(next));
      setOlder((o) => [...o, ...page.items]);
      setCursor(page.nextCursor);
    } catch (failure) {
      setMoreError(failure);
    }
  };

  return (
    <div>
      <Verify />
      <form onSubmit={apply} class="inline-form" aria-label="Filter the audit log">
        <Field
          id="audit-log-action"
          label="Action"
          placeholder="e.g. auth.sign_in"
          value={action}
          onInput={setAction}
        />
        <Field
          id="audit-log-actor"
          label="Actor (user id)"
          spellcheck={false}
          problem={actorProblem}
          value={actorId}
          onInput={setActorId}
        />
        <button type="submit" class="secondary">
          Filter
        </button>
      </form>
      {first.error ? <ErrorNotice error={first.error} onRetry={first.reload} /> : null}
      {!first.data && !first.error ? <Loading what="Loading the audit log" /> : null}
      {first.data && entries.length === 0 ? <Empty>No entries match.</Empty> : null}
      {entries.length > 0 ? (
        <div class="table-wrap" tabIndex={0} role="region" aria-label="Audit log entries">
          <table>
            <caption>Audit log, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Action</th>
                <th scope="col">Target</th>
                <th scope="col">Outcome</th>
                <th scope="col">From</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <tr key={e.seq} data-audit-action={e.action} data-outcome={e.outcome}>
                  <td>
                    <Time value={e.at} />
                  </td>
                  <td>
                    {e.actor ? (
                      <>
                        {e.actor.role ?? "?"} <Address value={e.actor.userId} label="actor id" />
                      </>
                    ) : (
                      "—"
                    )}
                  </td>
                  <td>
                    <code>{e.action}</code>
                  </td>
                  <td>{e.target ? <Address value={e.target} label="target" /> : "—"}</td>
                  <td class={e.outcome === "success" ? "success" : "bad"}>
                    {e.outcome === "success" ? "succeeded" : "failed"}
                    {typeof e.details.code === "string" ? (
                      <>
                        {" "}
                        (<code>{e.details.code}</code>)
                      </>
                    ) : null}
                  </td>
                  <td>{e.ip ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {moreError ? <ErrorNotice error={moreError} /> : null}
      {next ? (
        <button type="button" class="secondary" onClick={() => void loadOlder()}>
          Older entries
        </button>
      ) : null}
    </div>
  );
}
