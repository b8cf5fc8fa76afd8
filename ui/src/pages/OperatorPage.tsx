/**
 * Operations: dead-letter relays (GET /v1/relays?status=dead: what ended without moving money, and
 * why), freeze and unfreeze an account, payout batches from the settlement treasury, and — when the
 * risk engine's routes are on this server (docs/design/auth.md) — the review queue of held movements.
 */
import { useState } from "preact/hooks";

import { api } from "../http/client.ts";
import { moneyPost } from "../http/money.ts";
import type { Page, Payout, Relay, User } from "../http/types.ts";
import { Address } from "../components/Address.tsx";
import { Amount } from "../components/Amount.tsx";
import { Field } from "../components/Field.tsx";
import { Main } from "../components/Main.tsx";
import { MovementStatus } from "../components/MovementStatus.tsx";
import { Empty, ErrorNotice, Loading, Section } from "../components/States.tsx";
import { Time } from "../components/Time.tsx";
import { amountProblemText, parseAmount } from "../core/amount.ts";
import { hasFeature, useConfig } from "../core/config.ts";
import { useAsync } from "../core/use-async.ts";

type Review = {
  id: string;
  status: string;
  movement: { kind: string; amount: string; from: string; to: string };
  reasons: { code: string; message: string }[];
  score?: number;
  createdAt: string;
  expiresAt?: string;
};

function DeadLetters() {
  const relays = useAsync((signal) => api<Page<Relay>>("GET", "/v1/relays?status=dead&limit=50", { signal }), []);
  if (relays.error) return <ErrorNotice error={relays.error} onRetry={relays.reload} />;
  if (!relays.data) return <Loading what="Loading dead letters" />;
  if (relays.data.items.length === 0) return <Empty>No dead letters: every relay was sent or is on its way.</Empty>;
  return (
    <div class="table-wrap">
      <table>
        <caption>Relays that ended without moving money, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Relay</th>
            <th scope="col">Kind</th>
            <th scope="col">Ended as</th>
            <th scope="col">Why</th>
            <th scope="col">Last change</th>
          </tr>
        </thead>
        <tbody>
          {relays.data.items.map((r) => (
            <tr key={r.relayId}>
              <td>
                <Address value={r.relayId} label="relay id" />
              </td>
              <td>{r.kind}</td>
              <td>{r.status}</td>
              <td>
                {r.errorCode ? <code>{r.errorCode}</code> : null} {r.errorMessage}
              </td>
              <td>
                <Time value={r.updatedAt} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Freeze() {
  const [userId, setUserId] = useState("");
  const [done, setDone] = useState<User>();
  const [error, setError] = useState<unknown>();
  const act = async (frozen: boolean) => {
    setError(undefined);
    setDone(undefined);
    try {
      setDone(await api<User>("POST", `/v1/users/${encodeURIComponent(userId.trim())}/freeze`, { body: { frozen } }));
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <form onSubmit={(e) => e.preventDefault()}>
      <Field id="freeze-user" label="User id" spellcheck={false} value={userId} onInput={setUserId} />
      <div class="actions">
        <button type="button" class="danger" onClick={() => void act(true)}>
          Freeze
        </button>
        <button type="button" class="secondary" onClick={() => void act(false)}>
          Unfreeze
        </button>
      </div>
      {error ? <ErrorNotice error={error} /> : null}
      {done ? (
        <p class="success" role="status">
          {done.name} ({done.role}) is now {done.frozen ? "frozen: no money moves" : "unfrozen"}.
        </p>
      ) : null}
    </form>
  );
}

function ReviewQueue() {
  const reviews = useAsync((signal) => api<Page<Review>>("GET", "/v1/reviews?status=open&limit=50", { signal }), []);
  const [error, setError] = useState<unknown>();
  const [reason, setReason] = useState("");
  const decide = async (review: Review, approve: boolean) => {
    setError(undefined);
    try {
      await api("POST", `/v1/reviews/${review.id}/${approve ? "approve" : "reject"}`, {
        body: approve ? {} : { reason: reason.trim() || "Rejected by an operator" },
      });
      reviews.reload();
    } catch (failure) {
      setError(failure);
    }
  };
  if (reviews.error) return <ErrorNotice error={reviews.error} onRetry={reviews.reload} />;
  if (!reviews.data) return <Loading what="Loading the review queue" />;
  return (
    <div>
      {error ? <ErrorNotice error={error} /> : null}
      {reviews.data.items.length === 0 ? <Empty>Nothing is waiting for review.</Empty> : null}
      {reviews.data.items.length > 0 ? (
        <Field id="reject-reason" label="Reason when rejecting" value={reason} onInput={setReason} />
      ) : null}
      <ul class="list">
        {reviews.data.items.map((r) => (
          <li key={r.id} class="review-item">
            <p>
              {r.movement.kind} of <Amount units={r.movement.amount} /> from{" "}
              <Address value={r.movement.from} label="sender" /> to <Address value={r.movement.to} label="recipient" />{" "}
              — <Time value={r.createdAt} />
            </p>
            <ul>
              {r.reasons.map((reason) => (
                <li key={reason.code}>{reason.message}</li>
              ))}
            </ul>
            <div class="actions">
              <button type="button" onClick={() => void decide(r, true)}>
                Approve
              </button>
              <button type="button" class="danger" onClick={() => void decide(r, false)}>
                Reject
              </button>
            </div>
          </li>
        ))}
      </ul>
    </div>
  );
}

function Payouts() {
  const { config } = useConfig();
  const decimals = config?.token.decimals ?? 6;
  const payouts = useAsync((signal) => api<Page<Payout>>("GET", "/v1/payouts?limit=20", { signal }), []);
  const [recipient, setRecipient] = useState("");
  const [amount, setAmount] = useState("");
  const [reference, setReference] = useState("");
  const [problem, setProblem] = useState<string>();
  const [error, setError] = useState<unknown>();
  const send = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    const parsed = parseAmount(amount, decimals);
    if ("problem" in parsed) return setProblem(amountProblemText(parsed.problem, decimals));
    setProblem(undefined);
    const target = recipient.trim();
    const item = /^0x/i.test(target) ? { address: target } : { walletId: target };
    try {
      await moneyPost("/v1/payouts", {
        items: [{ ...item, amount: parsed.value.toString(), reference: reference.trim() || "payout" }],
      });
      payouts.reload();
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <div>
      <form onSubmit={send} noValidate>
        <Field
          id="payout-to"
          label="Merchant wallet id or address"
          spellcheck={false}
          value={recipient}
          onInput={setRecipient}
        />
        <Field
          id="payout-amount"
          label="Amount"
          inputMode="decimal"
          problem={problem}
          value={amount}
          onInput={setAmount}
        />
        <Field id="payout-reference" label="Reference" value={reference} onInput={setReference} />
        <button type="submit">Pay out from the treasury</button>
      </form>
      {error ? <ErrorNotice error={error} /> : null}
      {payouts.error ? <ErrorNotice error={payouts.error} onRetry={payouts.reload} /> : null}
      {payouts.data && payouts.data.items.length === 0 ? <Empty>No payout batches yet.</Empty> : null}
      {payouts.data && payouts.data.items.length > 0 ? (
        <ul class="list">
          {payouts.data.items.map((p) => (
            <li key={p.id}>
              <Amount units={p.total} /> to {p.items.length} merchant(s) — <MovementStatus status={p.status} /> —{" "}
              <Time value={p.createdAt} />
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

export function OperatorPage() {
  const { config } = useConfig();
  return (
    <Main title="Operations">
      <Section title="Review queue">
        {hasFeature(config, "reviewQueue") ? (
          <ReviewQueue />
        ) : (
          <p class="notice">Movements held by the risk engine appear here once it runs on this server.</p>
        )}
      </Section>
      <Section title="Dead-letter relays">
        <DeadLetters />
      </Section>
      <div class="grid two">
        <Section title="Freeze an account">
          <Freeze />
        </Section>
        <Section title="Payouts">
          <Payouts />
        </Section>
      </div>
    </Main>
  );
}
