/**
 * Paying a merchant's payment request from its link (/pay/<id>) or QR code: what it is (amount,
 * reference, expiry), from which wallet, and — for a self-custody wallet — the EIP-712
 * ReceiveWithAuthorization shown readably before the wallet signs it. The payer holds no gas.
 */
import { useState } from "preact/hooks";

import { api } from "../http/client.ts";
import { moneyPost } from "../http/money.ts";
import type { Movement, Page, PaymentRequest, TypedData, Wallet } from "../http/types.ts";
import { Address } from "../components/Address.tsx";
import { Amount } from "../components/Amount.tsx";
import { Main } from "../components/Main.tsx";
import { MovementStatus } from "../components/MovementStatus.tsx";
import { Empty, ErrorNotice, Loading, Section } from "../components/States.tsx";
import { Time } from "../components/Time.tsx";
import { TypedDataView } from "../components/TypedDataView.tsx";
import { useConfig } from "../core/config.ts";
import { newIdempotencyKey } from "../core/format.ts";
import { useAsync } from "../core/use-async.ts";
import { useWalletStream } from "../core/use-wallet-stream.ts";

function PaymentProgress({ walletId, movementId }: { walletId: string; movementId: string }) {
  const { snapshot } = useWalletStream(walletId);
  const movement = snapshot?.movements.find((m) => m.id === movementId);
  return movement ? (
    <p role="status" aria-live="polite">
      Payment: <MovementStatus status={movement.status} />
    </p>
  ) : null;
}

export function PayPage({ paymentRequestId }: { paymentRequestId: string }) {
  const { config } = useConfig();
  const request = useAsync(
    (signal) => api<PaymentRequest>("GET", `/v1/payments/${paymentRequestId}`, { signal }),
    [paymentRequestId],
  );
  const wallets = useAsync((signal) => api<Page<Wallet>>("GET", "/v1/wallets?limit=100", { signal }), []);
  const [walletId, setWalletId] = useState<string>();
  const [review, setReview] = useState<{ typedData: TypedData; key: string }>();
  const [paid, setPaid] = useState<Movement>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const items = wallets.data?.items ?? [];
  const wallet = items.find((w) => w.id === walletId) ?? items[0];
  const known: Record<string, string> = config
    ? { [config.contracts.paymentEscrow.toLowerCase()]: "Stablerail escrow (holds it for the merchant)" }
    : {};

  const pay = async () => {
    if (!wallet) return;
    setBusy(true);
    setError(undefined);
    try {
      if (wallet.kind === "custodial") {
        setPaid(await moneyPost<Movement>(`/v1/payments/${paymentRequestId}/pay`, { walletId: wallet.id }));
      } else {
        const typedData = await api<TypedData>(
          "GET",
          `/v1/payments/${paymentRequestId}/typed-data?walletId=${encodeURIComponent(wallet.id)}`,
        );
        setReview({ typedData, key: newIdempotencyKey() });
      }
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  const signAndPay = async () => {
    if (!wallet || !review) return;
    setBusy(true);
    setError(undefined);
    try {
      const { signTypedData } = await import("../core/injected-wallet.ts");
      const signature = await signTypedData(wallet.address as `0x${string}`, review.typedData);
      const m = review.typedData.message;
      setPaid(
        await moneyPost<Movement>(
          `/v1/payments/${paymentRequestId}/pay`,
          { walletId: wallet.id, validAfter: String(m.validAfter), validBefore: String(m.validBefore), signature },
          review.key,
        ),
      );
      setReview(undefined);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  const pr = request.data;
  return (
    <Main title="Pay">
      {request.error ? <ErrorNotice error={request.error} onRetry={request.reload} /> : null}
      {request.loading && !pr ? <Loading what="Loading the payment request" /> : null}
      {pr ? (
        <Section title="Payment request">
          <dl class="facts">
            <dt>Amount</dt>
            <dd data-testid="pay-amount">
              <Amount units={pr.amount} />
            </dd>
            <dt>Reference</dt>
            <dd>{pr.reference}</dd>
            <dt>Merchant</dt>
            <dd>
              <Address value={pr.terms.merchant} label="merchant address" />
            </dd>
            <dt>Pay before</dt>
            <dd>
              <Time value={pr.expiresAt} />
            </dd>
            <dt>Status</dt>
            <dd>{pr.status === "open" ? "Open: waiting for payment" : "Paid"}</dd>
          </dl>
        </Section>
      ) : null}
      {pr && pr.status === "open" && !paid ? (
        <Section title="Pay from">
          {wallets.loading && !wallets.data ? <Loading what="Loading your wallets" /> : null}
          {wallets.data && items.length === 0 ? (
            <Empty>
              You need a wallet to pay. <a href="/wallet">Create or connect one</a>.
            </Empty>
          ) : null}
          {items.length > 0 ? (
            <fieldset>
              <legend>Wallet</legend>
              {items.map((w) => (
                <label key={w.id} class="choice">
                  <input
                    type="radio"
                    name="pay-wallet"
                    value={w.id}
                    checked={w.id === wallet?.id}
                    onChange={() => (setWalletId(w.id), setReview(undefined))}
                  />
                  {w.kind === "custodial" ? "Custodial" : "Self-custody"} <code>{w.address}</code>
                </label>
              ))}
            </fieldset>
          ) : null}
          {wallet && !review ? (
            <button type="button" onClick={() => void pay()} disabled={busy}>
              {wallet.kind === "custodial" ? (busy ? "Paying…" : "Pay now") : "Review and sign"}
            </button>
          ) : null}
          {review ? (
            <div class="review">
              <h3>Check before you sign</h3>
              <TypedDataView typedData={review.typedData} known={known} />
              <div class="actions">
                <button type="button" onClick={() => void signAndPay()} disabled={busy}>
                  {busy ? "Waiting for your wallet…" : "Sign in wallet and pay"}
                </button>
                <button type="button" class="secondary" onClick={() => setReview(undefined)}>
                  Cancel
                </button>
              </div>
            </div>
          ) : null}
        </Section>
      ) : null}
      {error ? <ErrorNotice error={error} /> : null}
      {paid ? (
        <Section title="Paid">
          <p class="success" role="status">
            Payment of <Amount units={paid.amount} /> sent.
          </p>
          {wallet ? <PaymentProgress walletId={wallet.id} movementId={paid.id} /> : null}
        </Section>
      ) : null}
    </Main>
  );
}
