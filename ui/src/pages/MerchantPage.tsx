/**
 * A merchant's payments: create a payment request (amount, reference, expiry, capture mode) and
 * share its link and QR code; the list of requests with what each holds, captured and refunded;
 * payouts received from the settlement treasury (the wallet's ledger history of kind payout).
 */
import { useState } from "preact/hooks";

import { api } from "../http/client.ts";
import type { HistoryItem, Page, PaymentRequest, Wallet } from "../http/types.ts";
import { Address } from "../components/Address.tsx";
import { Amount } from "../components/Amount.tsx";
import { Field } from "../components/Field.tsx";
import { Main } from "../components/Main.tsx";
import { Qr } from "../components/Qr.tsx";
import { Empty, ErrorNotice, Loading, Section } from "../components/States.tsx";
import { Time } from "../components/Time.tsx";
import { amountProblemText, parseAmount } from "../core/amount.ts";
import { useConfig } from "../core/config.ts";
import { useAsync } from "../core/use-async.ts";

export const paymentLinkOf = (id: string) => `${location.origin}/pay/${id}`;

export function PaymentLink({ id }: { id: string }) {
  const link = paymentLinkOf(id);
  return (
    <div class="payment-link">
      <p>
        Payment link: <a href={`/pay/${id}`}>{link}</a>{" "}
        <button
          type="button"
          class="icon"
          onClick={() => void navigator.clipboard.writeText(link)}
          aria-label="Copy payment link"
        >
          Copy
        </button>
      </p>
      <Qr value={link} label={`QR code of the payment link ${link}`} />
    </div>
  );
}

function CreatePaymentRequest({ wallet, onCreated }: { wallet: Wallet; onCreated: (pr: PaymentRequest) => void }) {
  const { config } = useConfig();
  const decimals = config?.token.decimals ?? 6;
  const [amount, setAmount] = useState("");
  const [reference, setReference] = useState("");
  const [minutes, setMinutes] = useState("60");
  const [mode, setMode] = useState<"authorize" | "charge">("authorize");
  const [problem, setProblem] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    const parsed = parseAmount(amount, decimals);
    if ("problem" in parsed) return setProblem(amountProblemText(parsed.problem, decimals));
    setProblem(undefined);
    setBusy(true);
    try {
      const created = await api<PaymentRequest>("POST", "/v1/payments", {
        body: {
          walletId: wallet.id,
          amount: parsed.value.toString(),
          reference: reference.trim(),
          expiresInSeconds: Math.round(Number(minutes) * 60),
          captureMode: mode,
        },
      });
      setAmount("");
      setReference("");
      onCreated(created);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} noValidate>
      <Field
        id="pr-amount"
        label={`Amount (${config?.token.symbol ?? "tokens"})`}
        inputMode="decimal"
        problem={problem}
        value={amount}
        onInput={setAmount}
      />
      <Field
        id="pr-reference"
        label="Reference"
        hint="Your order or invoice number; unique per merchant."
        value={reference}
        onInput={setReference}
      />
      <Field
        id="pr-expiry"
        label="Expires in (minutes)"
        inputMode="numeric"
        hint="Between 1 minute and 30 days."
        value={minutes}
        onInput={setMinutes}
      />
      <fieldset>
        <legend>When the payer pays</legend>
        <label class="choice">
          <input type="radio" name="pr-mode" checked={mode === "authorize"} onChange={() => setMode("authorize")} />
          Hold in escrow; I capture later (partly or fully)
        </label>
        <label class="choice">
          <input type="radio" name="pr-mode" checked={mode === "charge"} onChange={() => setMode("charge")} />
          Capture at once
        </label>
      </fieldset>
      <button type="submit" disabled={busy}>
        {busy ? "Creating…" : "Create payment request"}
      </button>
      {error ? <ErrorNotice error={error} /> : null}
    </form>
  );
}

function PayoutsReceived({ wallet }: { wallet: Wallet }) {
  const payouts = useAsync(
    (signal) =>
      api<Page<HistoryItem>>("GET", `/v1/wallets/${wallet.id}/history?kind=settlement_payout&limit=20`, { signal }),
    [wallet.id],
  );
  if (payouts.error) return <ErrorNotice error={payouts.error} onRetry={payouts.reload} />;
  if (!payouts.data) return <Loading what="Loading payouts" />;
  if (payouts.data.items.length === 0) return <Empty>No payouts received yet.</Empty>;
  return (
    <ul class="list">
      {payouts.data.items.map((item) => (
        <li key={`${item.transactionHash}-${item.logIndex}`}>
          <Amount units={item.amount} sign /> on <Time value={Number(item.blockTimestamp)} /> —{" "}
          <Address value={item.transactionHash} label="transaction hash" />
        </li>
      ))}
    </ul>
  );
}

export function MerchantPage() {
  const wallets = useAsync((signal) => api<Page<Wallet>>("GET", "/v1/wallets?limit=100", { signal }), []);
  const list = useAsync((signal) => api<Page<PaymentRequest>>("GET", "/v1/payments?limit=50", { signal }), []);
  const [created, setCreated] = useState<PaymentRequest>();
  const [error, setError] = useState<unknown>();
  const wallet = wallets.data?.items[0];

  const createWallet = async () => {
    try {
      await api("POST", "/v1/wallets");
      wallets.reload();
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <Main title="Payments">
      {wallets.error ? <ErrorNotice error={wallets.error} onRetry={wallets.reload} /> : null}
      {error ? <ErrorNotice error={error} /> : null}
      {wallets.data && !wallet ? (
        <Section title="Get started">
          <Empty>You need a wallet to receive captured payments.</Empty>
          <button type="button" onClick={() => void createWallet()}>
            Create a custodial wallet
          </button>
        </Section>
      ) : null}
      {wallet ? (
        <div class="grid two">
          <Section title="New payment request">
            <CreatePaymentRequest wallet={wallet} onCreated={(pr) => (setCreated(pr), list.reload())} />
          </Section>
          <Section title="Share it">
            {created ? (
              <>
                <p role="status">
                  Created <strong>{created.reference}</strong> for <Amount units={created.amount} />.
                </p>
                <PaymentLink id={created.id} />
                <p>
                  <a href={`/merchant/payments/${created.id}`}>Open this payment</a>
                </p>
              </>
            ) : (
              <Empty>Create a request to get its link and QR code.</Empty>
            )}
          </Section>
        </div>
      ) : null}
      <Section title="Payment requests">
        {list.error ? <ErrorNotice error={list.error} onRetry={list.reload} /> : null}
        {list.loading && !list.data ? <Loading what="Loading payment requests" /> : null}
        {list.data && list.data.items.length === 0 ? <Empty>No payment requests yet.</Empty> : null}
        {list.data && list.data.items.length > 0 ? (
          <div class="table-wrap">
            <table>
              <caption>Newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Reference</th>
                  <th scope="col">Amount</th>
                  <th scope="col">State</th>
                  <th scope="col">Held</th>
                  <th scope="col">Captured</th>
                  <th scope="col">Refunded</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((pr) => (
                  <tr key={pr.id}>
                    <td>
                      <a href={`/merchant/payments/${pr.id}`}>{pr.reference}</a>
                    </td>
                    <td>
                      <Amount units={pr.amount} />
                    </td>
                    <td>{pr.payment?.status ?? pr.status}</td>
                    <td>
                      <Amount units={pr.payment?.held ?? "0"} />
                    </td>
                    <td>
                      <Amount units={pr.payment?.captured ?? "0"} />
                    </td>
                    <td>
                      <Amount units={pr.payment?.refunded ?? "0"} />
                    </td>
                    <td>
                      <Time value={pr.createdAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </Section>
      {wallet ? (
        <Section title="Payouts received">
          <PayoutsReceived wallet={wallet} />
        </Section>
      ) : null}
    </Main>
  );
}
