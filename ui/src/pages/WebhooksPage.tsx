/**
 * A merchant's webhook endpoints and their delivery log. The API has no list of endpoints yet
 * (only create, rotate and deliveries), so this browser remembers the endpoints created here, and
 * one can be added by id; each shows its deliveries, newest first, with status and HTTP answer.
 */
import { useState } from "preact/hooks";

import { newIdempotencyKey } from "../core/format.ts";
import { api } from "../http/client.ts";
import type { Delivery, Page, WebhookEndpoint } from "../http/types.ts";
import { Address } from "../components/Address.tsx";
import { Field } from "../components/Field.tsx";
import { Main } from "../components/Main.tsx";
import { Empty, ErrorNotice, Loading, Section } from "../components/States.tsx";
import { Time } from "../components/Time.tsx";
import { hasFeature, useConfig } from "../core/config.ts";
import { session } from "../core/session.ts";
import { useAsync } from "../core/use-async.ts";

type Remembered = { id: string; url: string };
const storageKey = () => `stablerail.webhooks.${session.value?.user.id ?? "anon"}`;
const remembered = (): Remembered[] => {
  try {
    return JSON.parse(localStorage.getItem(storageKey()) ?? "[]") as Remembered[];
  } catch {
    return [];
  }
};
const remember = (items: Remembered[]) => localStorage.setItem(storageKey(), JSON.stringify(items));

const DELIVERY_WORDS: Record<string, string> = {
  delivered: "Delivered",
  succeeded: "Delivered",
  pending: "Waiting to be sent",
  retrying: "Retrying",
  queued: "Queued to send again",
  failed: "Failed (gave up)",
};

function Deliveries({ endpoint }: { endpoint: Remembered }) {
  const { config } = useConfig();
  const deliveries = useAsync(
    (signal) => api<Page<Delivery>>("GET", `/v1/webhook-endpoints/${endpoint.id}/deliveries?limit=20`, { signal }),
    [endpoint.id],
  );
  const [error, setError] = useState<unknown>();
  const [secret, setSecret] = useState<string>();
  const retry = async (delivery: Delivery) => {
    try {
      await api("POST", `/v1/webhook-endpoints/${endpoint.id}/deliveries/${delivery.id}/retry`, {
        idempotencyKey: newIdempotencyKey(),
      });
      deliveries.reload();
    } catch (failure) {
      setError(failure);
    }
  };
  const rotate = async () => {
    try {
      setSecret((await api<WebhookEndpoint>("POST", `/v1/webhook-endpoints/${endpoint.id}/rotate-secret`)).secret);
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <div class="endpoint" data-endpoint={endpoint.id}>
      <h3>
        <code>{endpoint.url}</code>
      </h3>
      <p class="hint">
        Endpoint <Address value={endpoint.id} label="endpoint id" />
      </p>
      <div class="actions">
        <button type="button" class="secondary" onClick={deliveries.reload}>
          Reload deliveries
        </button>
        <button type="button" class="secondary" onClick={() => void rotate()}>
          Rotate the signing secret
        </button>
      </div>
      {secret ? (
        <p role="status" class="secret">
          New secret (shown once; the old one keeps signing until the next rotation): <code>{secret}</code>
        </p>
      ) : null}
      {error ? <ErrorNotice error={error} /> : null}
      {deliveries.error ? <ErrorNotice error={deliveries.error} onRetry={deliveries.reload} /> : null}
      {!deliveries.data && deliveries.loading ? <Loading what="Loading deliveries" /> : null}
      {deliveries.data && deliveries.data.items.length === 0 ? (
        <Empty>No deliveries yet: events arrive when a payment or payout of yours is in the ledger.</Empty>
      ) : null}
      {deliveries.data && deliveries.data.items.length > 0 ? (
        <div class="table-wrap">
          <table>
            <caption>Deliveries, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col">HTTP answer</th>
                <th scope="col">Attempts</th>
                <th scope="col">When</th>
                {hasFeature(config, "webhookRetry") ? <th scope="col">Retry</th> : null}
              </tr>
            </thead>
            <tbody>
              {deliveries.data.items.map((d) => (
                <tr key={d.id} data-delivery-status={d.status}>
                  <td>
                    {d.eventType} <Address value={d.eventId} label="event id" keep={6} />
                  </td>
                  <td>{DELIVERY_WORDS[d.status] ?? d.status}</td>
                  <td>{d.responseStatus ?? "—"}</td>
                  <td>{d.attempts}</td>
                  <td>
                    <Time value={d.createdAt} />
                  </td>
                  {hasFeature(config, "webhookRetry") ? (
                    <td>
                      {d.status === "failed" ? (
                        <button type="button" class="secondary" onClick={() => void retry(d)}>
                          Retry
                        </button>
                      ) : null}
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}

export function WebhooksPage() {
  const [endpoints, setEndpoints] = useState<Remembered[]>(remembered);
  const [url, setUrl] = useState("");
  const [existing, setExisting] = useState("");
  const [created, setCreated] = useState<WebhookEndpoint>();
  const [error, setError] = useState<unknown>();

  const add = (item: Remembered) => {
    const next = [item, ...endpoints.filter((e) => e.id !== item.id)];
    remember(next);
    setEndpoints(next);
  };

  const create = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    try {
      const endpoint = await api<WebhookEndpoint>("POST", "/v1/webhook-endpoints", { body: { url: url.trim() } });
      setCreated(endpoint);
      add({ id: endpoint.id, url: endpoint.url });
      setUrl("");
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <Main title="Webhooks" lead="Signed events about your payments and payouts, delivered to your server.">
      <div class="grid two">
        <Section title="Add an endpoint">
          <form onSubmit={create} noValidate>
            <Field
              id="webhook-url"
              label="Endpoint URL"
              type="url"
              hint="https://… on your server."
              value={url}
              onInput={setUrl}
            />
            <button type="submit">Add endpoint</button>
          </form>
          {error ? <ErrorNotice error={error} /> : null}
          {created?.secret ? (
            <p role="status" class="secret">
              Signing secret (shown once — keep it to verify <code>Stablerail-Signature</code>):{" "}
              <code>{created.secret}</code>
            </p>
          ) : null}
        </Section>
        <Section title="An endpoint made elsewhere">
          <form
            onSubmit={(event) => {
              event.preventDefault();
              if (/^[0-9a-f-]{36}$/i.test(existing.trim())) add({ id: existing.trim(), url: "(added by id)" });
              setExisting("");
            }}
          >
            <Field id="webhook-existing" label="Endpoint id" value={existing} onInput={setExisting} />
            <button type="submit" class="secondary">
              Show its deliveries
            </button>
          </form>
        </Section>
      </div>
      <Section title="Endpoints and deliveries">
        {endpoints.length === 0 ? (
          <Empty>No endpoints yet.</Empty>
        ) : (
          endpoints.map((e) => <Deliveries key={e.id} endpoint={e} />)
        )}
      </Section>
    </Main>
  );
}
