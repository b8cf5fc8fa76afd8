/**
 * Send: a recipient address (another user's wallet address, or any address) and an amount typed in
 * token units, parsed to base units with bigint. The API decides the rest (checksum, balance,
 * frozen accounts, risk) and its reason is shown as it gave it; nothing moves on a refusal.
 * Custodial wallets: the service signs after the checks. Self-custody: the EIP-712
 * TransferWithAuthorization is fetched, shown readably, and signed in the injected wallet.
 */
import { useState } from "preact/hooks";

import { api } from "../http/client.ts";
import { moneyPost } from "../http/money.ts";
import type { Movement, TypedData, Wallet } from "../http/types.ts";
import { amountProblemText, parseAmount } from "../core/amount.ts";
import { useConfig } from "../core/config.ts";
import { newIdempotencyKey } from "../core/format.ts";
import { Amount } from "./Amount.tsx";
import { Field } from "./Field.tsx";
import { MovementStatus } from "./MovementStatus.tsx";
import { ErrorNotice } from "./States.tsx";
import { TypedDataView } from "./TypedDataView.tsx";

export function SendForm({ wallet }: { wallet: Wallet }) {
  const { config } = useConfig();
  const decimals = config?.token.decimals ?? 6;
  const [to, setTo] = useState("");
  const [amount, setAmount] = useState("");
  const [amountProblem, setAmountProblem] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [sent, setSent] = useState<Movement>();
  const [review, setReview] = useState<{ typedData: TypedData; units: bigint; key: string }>();

  const reset = () => {
    setError(undefined);
    setSent(undefined);
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    reset();
    const parsed = parseAmount(amount, decimals);
    if ("problem" in parsed) {
      setAmountProblem(amountProblemText(parsed.problem, decimals));
      return;
    }
    setAmountProblem(undefined);
    setBusy(true);
    try {
      if (wallet.kind === "custodial") {
        const movement = await moneyPost<Movement>(`/v1/wallets/${wallet.id}/transfers`, {
          to: to.trim(),
          amount: parsed.value.toString(),
        });
        setSent(movement);
        setAmount("");
      } else {
        const query = new URLSearchParams({ to: to.trim(), amount: parsed.value.toString() });
        const typedData = await api<TypedData>("GET", `/v1/wallets/${wallet.id}/transfers/typed-data?${query}`);
        setReview({ typedData, units: parsed.value, key: newIdempotencyKey() });
      }
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  const signAndSend = async () => {
    if (!review) return;
    setBusy(true);
    setError(undefined);
    try {
      const { signTypedData } = await import("../core/injected-wallet.ts");
      const signature = await signTypedData(wallet.address as `0x${string}`, review.typedData);
      const m = review.typedData.message;
      const movement = await moneyPost<Movement>(
        `/v1/wallets/${wallet.id}/transfers`,
        {
          to: m.to,
          amount: String(m.value),
          validAfter: String(m.validAfter),
          validBefore: String(m.validBefore),
          nonce: m.nonce,
          signature,
        },
        review.key,
      );
      setSent(movement);
      setReview(undefined);
      setAmount("");
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div>
      <form onSubmit={submit} noValidate aria-describedby={error ? "send-error" : undefined}>
        <Field
          id="send-to"
          label="Recipient address"
          hint="Another user's wallet address, or any address: 0x and 40 hexadecimal characters."
          autoComplete="off"
          spellcheck={false}
          value={to}
          onInput={(value) => (setTo(value), setReview(undefined))}
        />
        <Field
          id="send-amount"
          label={`Amount (${config?.token.symbol ?? "tokens"})`}
          hint={`Up to ${decimals} decimal places.`}
          inputMode="decimal"
          autoComplete="off"
          problem={amountProblem}
          value={amount}
          onInput={(value) => (setAmount(value), setReview(undefined))}
        />
        <button type="submit" disabled={busy}>
          {wallet.kind === "custodial" ? (busy ? "Sending…" : "Send") : "Review and sign"}
        </button>
      </form>
      {review ? (
        <div class="review" aria-live="polite">
          <h3>Check before you sign</h3>
          <TypedDataView typedData={review.typedData} />
          <div class="actions">
            <button type="button" onClick={() => void signAndSend()} disabled={busy}>
              {busy ? "Waiting for your wallet…" : "Sign in wallet and send"}
            </button>
            <button type="button" class="secondary" onClick={() => setReview(undefined)}>
              Cancel
            </button>
          </div>
        </div>
      ) : null}
      <div id="send-error">{error ? <ErrorNotice error={error} /> : null}</div>
      {sent ? (
        <p class="success" role="status">
          Sending <Amount units={sent.amount} /> — <MovementStatus status={sent.status} />. It updates below as it
          settles.
        </p>
      ) : null}
    </div>
  );
}
