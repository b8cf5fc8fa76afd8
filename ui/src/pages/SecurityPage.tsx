/**
 * Security: the sessions that can act for you (revoke any), your API keys (create — shown once —
 * and revoke), and, when this server has them (docs/design/auth.md), two-factor with an
 * authenticator app (TOTP, recovery codes) and passkeys (WebAuthn).
 */
import { useState } from "preact/hooks";

import { api } from "../http/client.ts";
import { stepUpHeader, withStepUp } from "../http/money.ts";
import { createPasskey } from "../http/passkey.ts";
import { Main } from "../components/Main.tsx";
import { Field } from "../components/Field.tsx";
import { Empty, ErrorNotice, Loading, Section } from "../components/States.tsx";
import { Time } from "../components/Time.tsx";
import { hasFeature, useConfig } from "../core/config.ts";
import { useAsync } from "../core/use-async.ts";

type SessionView = {
  id: string;
  kind: string;
  current: boolean;
  createdAt: string;
  expiresAt: string;
  userAgent?: string;
};
type KeyView = { id: string; prefix: string; role: string; createdAt: string };
type Factors = {
  totp: { enabled: boolean; confirmedAt: string | null };
  passkeys: Passkey[];
  recoveryCodesRemaining: number;
};
type Passkey = { id: string; name: string; createdAt: string; lastUsedAt: string | null };

function Sessions() {
  const sessions = useAsync((signal) => api<{ items: SessionView[] }>("GET", "/v1/auth/sessions", { signal }), []);
  const [error, setError] = useState<unknown>();
  const revoke = async (id: string) => {
    try {
      await api("DELETE", `/v1/auth/sessions/${id}`);
      sessions.reload();
    } catch (failure) {
      setError(failure);
    }
  };
  if (sessions.error) return <ErrorNotice error={sessions.error} onRetry={sessions.reload} />;
  if (!sessions.data) return <Loading what="Loading sessions" />;
  return (
    <>
      {error ? <ErrorNotice error={error} /> : null}
      <ul class="list">
        {sessions.data.items.map((s) => (
          <li key={s.id}>
            {s.current ? <strong>This tab</strong> : s.kind.replace("_", " ")} — since <Time value={s.createdAt} />,
            until <Time value={s.expiresAt} />{" "}
            {s.current ? null : (
              <button type="button" class="secondary" onClick={() => void revoke(s.id)}>
                Sign out this session
              </button>
            )}
          </li>
        ))}
      </ul>
    </>
  );
}

function ApiKeys() {
  const keys = useAsync((signal) => api<{ items: KeyView[] }>("GET", "/v1/api-keys", { signal }), []);
  const [shown, setShown] = useState<string>();
  const [error, setError] = useState<unknown>();
  const create = async () => {
    setError(undefined);
    try {
      // A session of a user with a second factor creates a key only with a step-up for that action.
      const created = await withStepUp((approval) =>
        api<{ apiKey: string }>("POST", "/v1/api-keys", { headers: stepUpHeader(approval) }),
      );
      setShown(created.apiKey);
      keys.reload();
    } catch (failure) {
      setError(failure);
    }
  };
  const revoke = async (id: string) => {
    try {
      await api("DELETE", `/v1/api-keys/${id}`);
      keys.reload();
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <>
      {error ? <ErrorNotice error={error} /> : null}
      {shown ? (
        <p class="secret" role="status">
          New key (shown only now): <code>{shown}</code>
        </p>
      ) : null}
      {keys.error ? <ErrorNotice error={keys.error} onRetry={keys.reload} /> : null}
      {keys.data && keys.data.items.length === 0 ? <Empty>No API keys.</Empty> : null}
      <ul class="list">
        {keys.data?.items.map((k) => (
          <li key={k.id}>
            <code>{k.prefix}…</code> ({k.role}), made <Time value={k.createdAt} />{" "}
            <button type="button" class="secondary" onClick={() => void revoke(k.id)}>
              Revoke
            </button>
          </li>
        ))}
      </ul>
      <button type="button" class="secondary" onClick={() => void create()}>
        Create an API key
      </button>
    </>
  );
}

function TwoFactor() {
  const factors = useAsync((signal) => api<Factors>("GET", "/v1/auth/factors", { signal }), []);
  const [enrolment, setEnrolment] = useState<{ secret: string; qrSvg: string }>();
  const [code, setCode] = useState("");
  const [codes, setCodes] = useState<string[]>();
  const [error, setError] = useState<unknown>();
  const start = async () => {
    setError(undefined);
    try {
      setEnrolment(await api("POST", "/v1/auth/totp"));
    } catch (failure) {
      setError(failure);
    }
  };
  const confirm = async (event: Event) => {
    event.preventDefault();
    try {
      const answer = await api<{ recoveryCodes: string[] }>("POST", "/v1/auth/totp/confirm", {
        body: { code: code.trim() },
      });
      setCodes(answer.recoveryCodes);
      setEnrolment(undefined);
      factors.reload();
    } catch (failure) {
      setError(failure);
    }
  };
  if (factors.error) return <ErrorNotice error={factors.error} onRetry={factors.reload} />;
  if (!factors.data) return <Loading what="Loading your second factors" />;
  return (
    <div>
      {error ? <ErrorNotice error={error} /> : null}
      <p>
        Authenticator app: {factors.data.totp.enabled ? <strong>on</strong> : "off"}. Recovery codes left:{" "}
        {factors.data.recoveryCodesRemaining}.
      </p>
      {codes ? (
        <div class="secret" role="status">
          <p>Your recovery codes — each works once. Store them somewhere safe; they are shown only now:</p>
          <ul class="codes">
            {codes.map((c) => (
              <li key={c}>
                <code>{c}</code>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {!factors.data.totp.enabled && !enrolment ? (
        <button type="button" onClick={() => void start()}>
          Set up an authenticator app
        </button>
      ) : null}
      {enrolment ? (
        <form onSubmit={confirm}>
          <img
            class="qr"
            src={`data:image/svg+xml;utf8,${encodeURIComponent(enrolment.qrSvg)}`}
            alt="QR code to add Stablerail to your authenticator app"
          />
          <p>
            Or type this secret: <code>{enrolment.secret}</code>
          </p>
          <Field
            id="totp-code"
            label="The 6-digit code it shows"
            inputMode="numeric"
            autoComplete="one-time-code"
            value={code}
            onInput={setCode}
          />
          <button type="submit">Turn on</button>
        </form>
      ) : null}
    </div>
  );
}

/**
 * Passkeys: register one (the browser's authenticator makes it; once the account has a second
 * factor the API asks for a step-up first), list them, remove one (always a step-up).
 */
function Passkeys() {
  const passkeys = useAsync((signal) => api<{ items: Passkey[] }>("GET", "/v1/auth/passkeys", { signal }), []);
  const [error, setError] = useState<unknown>();
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [added, setAdded] = useState<string>();
  const add = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    setAdded(undefined);
    setBusy(true);
    try {
      const { challengeId, options } = await withStepUp((approval) =>
        api<{ challengeId: string; options: unknown }>("POST", "/v1/auth/passkeys/registration-options", {
          headers: stepUpHeader(approval),
        }),
      );
      const response = await createPasskey(options);
      const created = await api<Passkey>("POST", "/v1/auth/passkeys", {
        body: { challengeId, response, name: name.trim() || undefined },
      });
      setName("");
      setAdded(created.name);
      passkeys.reload();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  const remove = async (id: string) => {
    setError(undefined);
    setAdded(undefined);
    try {
      await withStepUp((approval) =>
        api("DELETE", `/v1/auth/passkeys/${encodeURIComponent(id)}`, { headers: stepUpHeader(approval) }),
      );
      passkeys.reload();
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <div>
      {error ? <ErrorNotice error={error} /> : null}
      {added ? (
        <p class="notice good-bg" role="status">
          Passkey “{added}” added. You can sign in with it, and confirm payments with it.
        </p>
      ) : null}
      {passkeys.error ? <ErrorNotice error={passkeys.error} onRetry={passkeys.reload} /> : null}
      {passkeys.data && passkeys.data.items.length === 0 ? <Empty>No passkeys yet.</Empty> : null}
      {passkeys.data && passkeys.data.items.length > 0 ? (
        <ul class="list" aria-label="Your passkeys">
          {passkeys.data.items.map((p) => (
            <li key={p.id} data-passkey={p.id}>
              <strong>{p.name}</strong> — added <Time value={p.createdAt} />
              {p.lastUsedAt ? (
                <>
                  , last used <Time value={p.lastUsedAt} />
                </>
              ) : null}{" "}
              <button
                type="button"
                class="secondary"
                aria-label={`Remove passkey ${p.name}`}
                onClick={() => void remove(p.id)}
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      <form onSubmit={add} class="inline-form">
        <Field
          id="passkey-name"
          label="Name for the new passkey"
          placeholder="e.g. Work laptop"
          value={name}
          onInput={setName}
        />
        <button type="submit" disabled={busy}>
          {busy ? "Waiting for your device…" : "Add a passkey"}
        </button>
      </form>
    </div>
  );
}

export function SecurityPage() {
  const { config } = useConfig();
  return (
    <Main title="Security">
      <div class="grid two">
        <Section title="Two-factor authentication">
          {hasFeature(config, "totp") ? (
            <TwoFactor />
          ) : (
            <p class="notice">Authenticator apps arrive with accounts on this server.</p>
          )}
        </Section>
        <Section title="Passkeys">
          {hasFeature(config, "passkeys") ? (
            <Passkeys />
          ) : (
            <p class="notice">Passkeys arrive with accounts on this server.</p>
          )}
        </Section>
      </div>
      <div class="grid two">
        <Section title="Sessions">
          <Sessions />
        </Section>
        <Section title="API keys">
          <ApiKeys />
        </Section>
      </div>
    </Main>
  );
}
