/**
 * One payment request, for its merchant: its escrow state from the ledger (held, captured,
 * refunded), history and movements still settling; capture (partly or fully), void and refund.
 * It reloads when the merchant wallet's event stream says something moved — never on a timer.
 */
import { useEffect, useState } from "preact/hooks";

import { api } from "../http/client.ts";
import { moneyPost } from "../http/money.ts";
import type { Movement, Page, PaymentRequest, TypedData, Wallet } from "../http/types.ts";
import { Amount } from "../components/Amount.tsx";
import { Field } from "../components/Field.tsx";
import { Main } from "../components/Main.tsx";
import { MovementStatus } from "../components/MovementStatus.tsx";
import { Empty, ErrorNotice, Loading, Section } from "../components/States.tsx";
import { Time } from "../components/Time.tsx";
import { TypedDataView } from "../components/TypedDataView.tsx";
import { amountProblemText, parseAmount, toPlainDecimal } from "../core/amount.ts";
import { useConfig } from "../core/config.ts";
import { useAsync } from "../core/use-async.ts";
import { useWalletStream } from "../core/use-wallet-stream.ts";
import { PaymentLink } from "./MerchantPage.tsx";

const EVENT_WORDS: Record<string, string> = {
  PaymentAuthorized: "Paid: held in escrow",
  PaymentCharged: "Paid and captured",
  PaymentCaptured: "Captured",
  PaymentVoided: "Voided: returned to the payer",
  PaymentRefunded: "Refunded to the payer",
  PaymentReclaimed: "Reclaimed by the payer",
};

type Action = "capture" | "refund" | "void";

function ActionForm({
  pr,
  action,
  wallet,
  onDone,
}: {
  pr: PaymentRequest;
  action: Action;
  wallet: Wallet | undefined;
  onDone: (movement: Movement) => void;
}) {
  const { config } = useConfig();
  const decimals = config?.token.decimals ?? 6;
  const available =
    action === "capture"
      ? BigInt(pr.payment?.held ?? "0")
      : BigInt(pr.payment?.captured ?? "0") - BigInt(pr.payment?.refunded ?? "0");
  const [amount, setAmount] = useState(available > 0n ? toPlainDecimal(available, decimals) : "");
  const [problem, setProblem] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [review, setReview] = useState<{ refundSalt: string; authorization: TypedData; units: bigint }>();

  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    setBusy(true);
    try {
      if (action === "void") {
        onDone(await moneyPost<Movement>(`/v1/payments/${pr.id}/void`, {}));
        return;
      }
      const parsed = parseAmount(amount, decimals);
      if ("problem" in parsed) {
        setProblem(amountProblemText(parsed.problem, decimals));
        return;
      }
      setProblem(undefined);
      const units = parsed.value.toString();
      if (action === "capture") onDone(await moneyPost<Movement>(`/v1/payments/${pr.id}/captures`, { amount: units }));
      else if (wallet?.kind === "self_custody") {
        const typed = await api<{ refundSalt: string; authorization: TypedData }>(
          "GET",
          `/v1/payments/${pr.id}/refunds/typed-data?amount=${units}`,
        );
        setReview({ ...typed, units: parsed.value });
      } else onDone(await moneyPost<Movement>(`/v1/payments/${pr.id}/refunds`, { amount: units }));
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  const signRefund = async () => {
    if (!review || !wallet) return;
    setBusy(true);
    try {
      const { signTypedData } = await import("../core/injected-wallet.ts");
      const signature = await signTypedData(wallet.address as `0x${string}`, review.authorization);
      const m = review.authorization.message;
      onDone(
        await moneyPost<Movement>(`/v1/payments/${pr.id}/refunds`, {
          amount: review.units.toString(),
          refundSalt: review.refundSalt,
          validAfter: String(m.validAfter),
          validBefore: String(m.validBefore),
          signature,
        }),
      );
      setReview(undefined);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  const label = { capture: "Capture", refund: "Refund", void: "Void the payment" }[action];
  return (
    <form onSubmit={submit} noValidate class="action-form">
      {action !== "void" ? (
        <Field
          id={`${action}-amount`}
          label={`${label} amount (${config?.token.symbol ?? "tokens"})`}
          hint={action === "capture" ? "Up to what the escrow holds." : "Up to what was captured and not refunded."}
          inputMode="decimal"
          problem={problem}
          value={amount}
          onInput={setAmount}
        />
      ) : (
        <p>Returns everything still held to the payer.</p>
      )}
      <button type="submit" class={action === "void" ? "danger" : ""} disabled={busy}>
        {busy ? "Sending…" : label}
      </button>
      {review ? (
        <div class="review">
          <TypedDataView typedData={review.authorization} />
          <button type="button" onClick={() => void signRefund()} disabled={busy}>
            Sign in wallet and refund
          </button>
        </div>
      ) : null}
      {error ? <ErrorNotice error={error} /> : null}
    </form>
  );
}

export function PaymentPage({ paymentRequestId }: { paymentRequestId: string }) {
  const pr = useAsync(
    (signal) => api<PaymentRequest>("GET", `/v1/payments/${paymentRequestId}`, { signal }),
    [paymentRequestId],
  );
  const wallets = useAsync((signal) => api<Page<Wallet>>("GET", "/v1/wallets?limit=100", { signal }), []);
  const wallet = wallets.data?.items.find((w) => w.id === pr.data?.merchantWalletId);
  const { snapshot } = useWalletStream(pr.data?.merchantWalletId);
  const [last, setLast] = useState<Movement>();

  // The merchant wallet's stream says something moved (a capture settled, the ledger moved): reload once.
  const pulse = snapshot ? `${snapshot.indexedHead}:${snapshot.movements.map((m) => m.status).join(",")}` : "";
  useEffect(() => {
    if (pulse) pr.reload();
  }, [pulse]);

  const data = pr.data;
  return (
    <Main title={data ? `Payment ${data.reference}` : "Payment"}>
      {pr.error ? <ErrorNotice error={pr.error} onRetry={pr.reload} /> : null}
      {!data && pr.loading ? <Loading what="Loading the payment" /> : null}
      {data ? (
        <>
          <div class="grid two">
            <Section title="State">
              <dl class="facts" data-testid="payment-state">
                <dt>Amount requested</dt>
                <dd>
                  <Amount units={data.amount} />
                </dd>
                <dt>Status</dt>
                <dd data-testid="payment-status">
                  {data.payment?.status ?? (data.status === "open" ? "Waiting for payment" : data.status)}
                </dd>
                <dt>Held in escrow</dt>
                <dd data-testid="payment-held">
                  <Amount units={data.payment?.held ?? "0"} />
                </dd>
                <dt>Captured</dt>
                <dd data-testid="payment-captured">
                  <Amount units={data.payment?.captured ?? "0"} />
                </dd>
                <dt>Refunded</dt>
                <dd data-testid="payment-refunded">
                  <Amount units={data.payment?.refunded ?? "0"} />
                </dd>
                <dt>Pay before</dt>
                <dd>
                  <Time value={data.expiresAt} />
                </dd>
                <dt>Refunds until</dt>
                <dd>
                  <Time value={data.refundExpiresAt} />
                </dd>
              </dl>
            </Section>
            <Section title="Share">
              <PaymentLink id={data.id} />
            </Section>
          </div>
          {data.pending.length > 0 ? (
            <Section title="Settling">
              <ul class="list" aria-live="polite">
                {data.pending.map((m) => (
                  <li key={m.id}>
                    {m.kind.replace("payment.", "")} <Amount units={m.amount} /> — <MovementStatus status={m.status} />
                  </li>
                ))}
              </ul>
            </Section>
          ) : null}
          {data.payment ? (
            <Section title="Actions">
              {last ? (
                <p class="success" role="status">
                  {last.kind.replace("payment.", "")} of <Amount units={last.amount} /> sent — it settles in a moment.
                </p>
              ) : null}
              <div class="grid three">
                <ActionForm
                  key={`c-${data.payment.held}`}
                  pr={data}
                  action="capture"
                  wallet={wallet}
                  onDone={(m) => (setLast(m), pr.reload())}
                />
                <ActionForm
                  key={`r-${data.payment.captured}-${data.payment.refunded}`}
                  pr={data}
                  action="refund"
                  wallet={wallet}
                  onDone={(m) => (setLast(m), pr.reload())}
                />
                <ActionForm pr={data} action="void" wallet={wallet} onDone={(m) => (setLast(m), pr.reload())} />
              </div>
            </Section>
          ) : null}
          <Section title="History">
            {data.history.length === 0 ? (
              <Empty>Nothing in the ledger for this payment yet.</Empty>
            ) : (
              <ol class="list">
                {data.history.map((h) => (
                  <li key={`${h.transactionHash}-${h.event}`}>
                    {EVENT_WORDS[h.event] ?? h.event} — held <Amount units={h.held} />, captured{" "}
                    <Amount units={h.captured} />, refunded <Amount units={h.refunded} /> (block {h.blockNumber})
                  </li>
                ))}
              </ol>
            )}
          </Section>
        </>
      ) : null}
    </Main>
  );
}
