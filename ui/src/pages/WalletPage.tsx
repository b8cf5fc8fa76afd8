/**
 * A wallet holder's page: balances and activity that update live (the wallet's event stream:
 * pending → confirmed → settled in the ledger), send, receive (address and QR), pay a payment
 * request from its link, and a CSV statement. Lists the person's wallets, creates a custodial one
 * or connects a self-custody one (an injected EIP-1193 wallet proving its address by SIWE).
 */
import { useState } from "preact/hooks";

import { api, apiBlob } from "../http/client.ts";
import type { Page, Wallet } from "../http/types.ts";
import { Address } from "../components/Address.tsx";
import { Amount } from "../components/Amount.tsx";
import { Field } from "../components/Field.tsx";
import { LiveBadge } from "../components/LiveBadge.tsx";
import { Main } from "../components/Main.tsx";
import { MovementStatus } from "../components/MovementStatus.tsx";
import { Qr } from "../components/Qr.tsx";
import { SendForm } from "../components/SendForm.tsx";
import { Empty, ErrorNotice, Loading, Section } from "../components/States.tsx";
import { Time } from "../components/Time.tsx";
import { useConfig } from "../core/config.ts";
import { viewerZone } from "../core/format.ts";
import { navigate } from "../core/router.ts";
import { session } from "../core/session.ts";
import { useAsync } from "../core/use-async.ts";
import { useWalletStream } from "../core/use-wallet-stream.ts";

const KIND_WORDS: Record<string, string> = {
  mint: "Issued to you",
  burn: "Redeemed",
  transfer: "Transfer",
  authorization_transfer: "Transfer (signed)",
  escrow_authorize: "Payment held in escrow",
  escrow_capture: "Payment captured",
  escrow_fee: "Platform fee",
  escrow_void: "Payment voided",
  escrow_reclaim: "Payment reclaimed",
  escrow_refund: "Refund",
  settlement_payout: "Payout",
  settlement_authorization: "Transfer (batched)",
};
const MOVEMENT_WORDS: Record<string, string> = {
  transfer: "Send",
  "payment.authorize": "Payment",
  "payment.charge": "Payment",
  "payment.capture": "Capture",
  "payment.void": "Void",
  "payment.refund": "Refund",
  "payment.reclaim": "Reclaim",
  payout: "Payout",
};

function counterpartyOf(account: string): string {
  const match = /^(holder|issuance|escrow):(0x[0-9a-fA-F]+)$/.exec(account);
  return match ? match[2]! : account;
}

function ConnectSelfCustody({ onDone }: { onDone: () => void }) {
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const connect = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const wallet = await import("../core/injected-wallet.ts");
      const address = await wallet.connectWallet();
      const nonce = await api<{ nonce: string; domain: string; uri: string; chainId: number }>(
        "GET",
        "/v1/auth/siwe/nonce",
      );
      const signed = await wallet.signInMessage(address, nonce, "Connect this wallet to my Stablerail account.");
      await api("POST", "/v1/wallets/self-custody", { body: signed });
      onDone();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div>
      <button type="button" class="secondary" onClick={() => void connect()} disabled={busy}>
        {busy ? "Waiting for your wallet…" : "Connect a self-custody wallet"}
      </button>
      {error ? <ErrorNotice error={error} /> : null}
    </div>
  );
}

function Statement({ wallet, head }: { wallet: Wallet; head: string | null | undefined }) {
  const [fromBlock, setFrom] = useState("0");
  const [toBlock, setTo] = useState("");
  const [error, setError] = useState<unknown>();
  const download = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    try {
      const query = new URLSearchParams({ fromBlock: fromBlock.trim(), toBlock: (toBlock || head || "0").trim() });
      const blob = await apiBlob(`/v1/wallets/${wallet.id}/statement.csv?${query}`);
      const url = URL.createObjectURL(blob);
      const anchor = document.createElement("a");
      anchor.href = url;
      anchor.download = `statement-${wallet.address.slice(0, 10)}-${query.get("fromBlock")}-${query.get("toBlock")}.csv`;
      anchor.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <form onSubmit={download} class="inline-form">
      <Field id="statement-from" label="From block" inputMode="numeric" value={fromBlock} onInput={setFrom} />
      <Field
        id="statement-to"
        label="To block"
        inputMode="numeric"
        placeholder={head ?? ""}
        hint="Empty: the latest block in the ledger."
        value={toBlock}
        onInput={setTo}
      />
      <button type="submit" class="secondary">
        Download CSV statement
      </button>
      {error ? <ErrorNotice error={error} /> : null}
    </form>
  );
}

function WalletView({ wallet }: { wallet: Wallet }) {
  const { config } = useConfig();
  const { snapshot, history, stream } = useWalletStream(wallet.id);
  const [payLink, setPayLink] = useState("");
  const token = config?.token.address.toLowerCase();
  const balance = snapshot?.balances.find((b) => b.token.toLowerCase() === token)?.balance ?? "0";
  const unsettled =
    snapshot?.movements.filter(
      (m) => !["indexed", "failed", "dead", "rejected", "denied", "declined"].includes(m.status),
    ) ?? [];

  const openPayLink = (event: Event) => {
    event.preventDefault();
    const id = /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/i.exec(payLink)?.[1];
    if (id) navigate(`/pay/${id}`);
  };

  return (
    <>
      <div class="grid two">
        <Section title="Balance">
          <p class="balance" data-testid="balance">
            {snapshot ? <Amount units={balance} /> : <Loading what="Reading the ledger" />}
          </p>
          <p class="hint">
            Settled in the ledger{snapshot?.indexedHead ? ` up to block ${snapshot.indexedHead}` : ""}.{" "}
            {unsettled.length > 0 ? `${unsettled.length} movement(s) still settling.` : null}
          </p>
          <p>
            <LiveBadge state={stream.state} />
          </p>
          <dl class="facts">
            <dt>Wallet</dt>
            <dd>
              {wallet.kind === "custodial" ? "Custodial (the service signs)" : "Self-custody (your wallet signs)"}
            </dd>
          </dl>
        </Section>
        <Section title="Receive">
          <p>Share this address to receive {config?.token.symbol ?? "tokens"}:</p>
          <p>
            <Address value={wallet.address} keep={6} />
          </p>
          <Qr value={wallet.address} label={`QR code of the address ${wallet.address}`} />
        </Section>
      </div>
      <div class="grid two">
        <Section title="Send">
          <SendForm wallet={wallet} />
        </Section>
        <Section title="Pay a payment request">
          <form onSubmit={openPayLink}>
            <Field
              id="pay-link"
              label="Payment link or id"
              hint="The link a merchant shared (or scan its QR code with your phone's camera)."
              value={payLink}
              onInput={setPayLink}
            />
            <button type="submit" class="secondary">
              Open
            </button>
          </form>
        </Section>
      </div>
      <Section title="Activity">
        <p class="hint">Times in {viewerZone()}. This list updates by itself.</p>
        {!snapshot ? (
          <Loading what="Loading activity" />
        ) : snapshot.movements.length === 0 ? (
          <Empty>Nothing sent from this wallet yet.</Empty>
        ) : (
          <div class="table-wrap">
            <table>
              <caption>Sent from this wallet, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">What</th>
                  <th scope="col">To</th>
                  <th scope="col">Amount</th>
                  <th scope="col">Status</th>
                  <th scope="col">When</th>
                </tr>
              </thead>
              <tbody>
                {snapshot.movements.map((m) => (
                  <tr key={m.id} data-movement={m.id}>
                    <td>{MOVEMENT_WORDS[m.kind] ?? m.kind}</td>
                    <td>
                      <Address value={m.to} label="recipient" />
                    </td>
                    <td>
                      <Amount units={m.amount} />
                    </td>
                    <td>
                      <MovementStatus status={m.status} />
                    </td>
                    <td>
                      <Time value={m.createdAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
      <Section title="Ledger history">
        {!history ? (
          <Loading what="Loading history" />
        ) : history.length === 0 ? (
          <Empty>No money has moved in or out of this wallet yet. Share your address to receive.</Empty>
        ) : (
          <div class="table-wrap">
            <table>
              <caption>Settled in the ledger, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">What</th>
                  <th scope="col">Other side</th>
                  <th scope="col">Amount</th>
                  <th scope="col">Balance after</th>
                  <th scope="col">When</th>
                  <th scope="col">Transaction</th>
                </tr>
              </thead>
              <tbody>
                {history.map((item) => (
                  <tr key={`${item.transactionHash}-${item.logIndex}`}>
                    <td>{KIND_WORDS[item.kind] ?? item.kind}</td>
                    <td>
                      <Address value={counterpartyOf(item.counterparty)} label="counterparty" />
                    </td>
                    <td>
                      <Amount units={item.amount} sign />
                    </td>
                    <td>
                      <Amount units={item.balanceAfter} />
                    </td>
                    <td>
                      <Time value={Number(item.blockTimestamp)} />
                    </td>
                    <td>
                      <Address value={item.transactionHash} label="transaction hash" />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
      <Section title="Statement">
        <Statement wallet={wallet} head={snapshot?.indexedHead} />
      </Section>
    </>
  );
}

export function WalletPage({ walletId }: { walletId?: string | undefined }) {
  const wallets = useAsync((signal) => api<Page<Wallet>>("GET", "/v1/wallets?limit=100", { signal }), []);
  const [creating, setCreating] = useState(false);
  const [createError, setCreateError] = useState<unknown>();
  const role = session.value?.user.role;
  const holder = role === "user" || role === "merchant";

  const create = async () => {
    setCreating(true);
    setCreateError(undefined);
    try {
      const wallet = await api<Wallet>("POST", "/v1/wallets");
      wallets.reload();
      navigate(`/wallet/${wallet.id}`);
    } catch (failure) {
      setCreateError(failure);
    } finally {
      setCreating(false);
    }
  };

  const items = wallets.data?.items ?? [];
  const selected = items.find((w) => w.id === walletId) ?? items[0];
  return (
    <Main title="Wallet">
      {wallets.error ? <ErrorNotice error={wallets.error} onRetry={wallets.reload} /> : null}
      {wallets.loading && !wallets.data ? <Loading what="Loading your wallets" /> : null}
      {wallets.data && items.length === 0 ? (
        <Section title="Get started">
          <Empty>You have no wallet yet.</Empty>
        </Section>
      ) : null}
      {items.length > 1 ? (
        <nav aria-label="Your wallets" class="tabs">
          <ul>
            {items.map((w) => (
              <li key={w.id}>
                <a href={`/wallet/${w.id}`} aria-current={w.id === selected?.id ? "page" : undefined}>
                  {w.kind === "custodial" ? "Custodial" : "Self-custody"} {w.address.slice(0, 6)}…{w.address.slice(-4)}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      ) : null}
      {selected ? <WalletView key={selected.id} wallet={selected} /> : null}
      {holder && wallets.data ? (
        <Section title="Add a wallet">
          <div class="actions">
            <button type="button" onClick={() => void create()} disabled={creating}>
              {creating ? "Creating…" : "Create a custodial wallet"}
            </button>
            <ConnectSelfCustody onDone={wallets.reload} />
          </div>
          {createError ? <ErrorNotice error={createError} /> : null}
        </Section>
      ) : null}
    </Main>
  );
}
