/**
 * Sign in: exchange an API key for a session (POST /v1/auth/sessions — the key is used once and never
 * stored), or Sign-In with Ethereum for a registered self-custody wallet (GET /v1/auth/siwe/nonce,
 * POST /v1/auth/siwe). Email and password (POST /v1/auth/sign-in), with its second step — a TOTP
 * code or a recovery code against the ticket (POST /v1/auth/sign-in/second-factor) — appear when
 * the server has the routes (docs/design/auth.md). With passkeys on the server: sign in with a
 * passkey alone (discoverable: no email typed; POST /v1/auth/passkeys/sign-in-options, then
 * /v1/auth/passkeys/sign-in), or answer the password's second step with one.
 */
import { useState } from "preact/hooks";

import { api, ApiError } from "../http/client.ts";
import { signWithPasskey } from "../http/passkey.ts";
import type { User } from "../http/types.ts";
import { Field } from "../components/Field.tsx";
import { Main } from "../components/Main.tsx";
import { ErrorNotice, Section } from "../components/States.tsx";
import { hasFeature, useConfig } from "../core/config.ts";
import { deviceId } from "../core/device.ts";
import { navigate } from "../core/router.ts";
import { signIn, signOutReason, type Role, type Session } from "../core/session.ts";
import { useStore } from "../core/store.ts";

type Opened = { id: string; token: string; expiresAt: string };
type PasswordAnswer =
  | { status: "signed_in"; session: Opened }
  | {
      status: "second_factor_required";
      ticket: string;
      expiresAt: string;
      factors: string[];
      passkey?: { options: unknown } | null;
    };
type SecondStep = Extract<PasswordAnswer, { status: "second_factor_required" }>;

/**
 * Email and password, then — when the account has a second factor — a TOTP or recovery code
 * against the ticket the first step answered.
 */
function PasswordSignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [step, setStep] = useState<SecondStep>();
  const ticket = step?.ticket;
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const finish = async (opened: Opened) => {
    setPassword("");
    setCode("");
    await startSession(opened, "password");
    onSignedIn();
  };

  const first = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    setBusy(true);
    try {
      const answer = await api<PasswordAnswer>("POST", "/v1/auth/sign-in", {
        anonymous: true,
        body: { email: email.trim(), password, deviceId: deviceId() },
      });
      if (answer.status === "signed_in") await finish(answer.session);
      else setStep(answer);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  const second = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    setBusy(true);
    try {
      const typed = code.trim();
      // Six digits are a TOTP code; anything else is tried as a recovery code (xxxx-xxxx-xxxx).
      const answer = /^\d{6}$/.test(typed) ? { totp: { code: typed } } : { recoveryCode: typed };
      const signed = await api<{ session: Opened }>("POST", "/v1/auth/sign-in/second-factor", {
        anonymous: true,
        body: { ticket, ...answer },
      });
      await finish(signed.session);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  const withPasskey = async () => {
    setError(undefined);
    setBusy(true);
    try {
      const response = await signWithPasskey(step!.passkey!.options);
      const signed = await api<{ session: Opened }>("POST", "/v1/auth/sign-in/second-factor", {
        anonymous: true,
        body: { ticket, passkey: { response } },
      });
      await finish(signed.session);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  const takesCode = step ? step.factors.some((f) => f === "totp" || f === "recovery_code") : false;

  return step ? (
    <form onSubmit={second} noValidate>
      {step.factors.includes("passkey") && step.passkey ? (
        <p>
          <button type="button" onClick={() => void withPasskey()} disabled={busy}>
            Use my passkey
          </button>
        </p>
      ) : null}
      {takesCode ? (
        <>
          <Field
            id="second-factor-code"
            label="Code from your authenticator app"
            inputMode="numeric"
            autoComplete="one-time-code"
            hint="6 digits, or one of your recovery codes (xxxx-xxxx-xxxx)."
            value={code}
            onInput={setCode}
          />
          <button type="submit" disabled={busy}>
            {busy ? "Checking…" : "Continue"}
          </button>
        </>
      ) : null}
      {error ? <ErrorNotice error={error} /> : null}
    </form>
  ) : (
    <form onSubmit={first} noValidate>
      <Field id="signin-email" label="Email" type="email" autoComplete="email" value={email} onInput={setEmail} />
      <Field
        id="signin-password"
        label="Password"
        type="password"
        autoComplete="current-password"
        value={password}
        onInput={setPassword}
      />
      <button type="submit" disabled={busy}>
        {busy ? "Signing in…" : "Sign in with password"}
      </button>
      {error ? <ErrorNotice error={error} /> : null}
    </form>
  );
}

/** Reads who the new session is and keeps it. */
export async function startSession(opened: Opened, via: Session["via"], address?: string): Promise<Session> {
  const me = await api<User>("GET", "/v1/users/me", { token: opened.token });
  const value: Session = {
    token: opened.token,
    sessionId: opened.id,
    expiresAt: opened.expiresAt,
    via,
    user: { id: me.id, role: me.role as Role, name: me.name, frozen: me.frozen },
    ...(address ? { address } : {}),
  };
  signIn(value);
  return value;
}

export function SignInPage({ next }: { next?: string }) {
  const { config } = useConfig();
  const reason = useStore(signOutReason);
  const [key, setKey] = useState("");
  const [keyProblem, setKeyProblem] = useState<string>();
  const [busy, setBusy] = useState<"key" | "siwe" | "passkey" | undefined>();
  const [error, setError] = useState<unknown>();

  const done = () => navigate(next && next !== "/sign-in" ? next : "/", { replace: true });

  const withKey = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    const trimmed = key.trim();
    if (!/^sr_key_[A-Za-z0-9_-]{20,}$/.test(trimmed)) {
      setKeyProblem("An API key starts with sr_key_ followed by letters, digits, - and _.");
      return;
    }
    setKeyProblem(undefined);
    setBusy("key");
    try {
      const opened = await api<Opened>("POST", "/v1/auth/sessions", { token: trimmed });
      setKey("");
      await startSession(opened, "api_key");
      done();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(undefined);
    }
  };

  const withEthereum = async () => {
    setError(undefined);
    setBusy("siwe");
    try {
      const wallet = await import("../core/injected-wallet.ts");
      const address = await wallet.connectWallet();
      const nonce = await api<{ nonce: string; domain: string; uri: string; chainId: number }>(
        "GET",
        "/v1/auth/siwe/nonce",
        { anonymous: true },
      );
      const signed = await wallet.signInMessage(address, nonce, "Sign in to Stablerail.");
      const opened = await api<Opened>("POST", "/v1/auth/siwe", { anonymous: true, body: signed });
      await startSession(opened, "siwe", address);
      done();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(undefined);
    }
  };

  const withPasskey = async () => {
    setError(undefined);
    setBusy("passkey");
    try {
      const { challengeId, options } = await api<{ challengeId: string; options: unknown }>(
        "POST",
        "/v1/auth/passkeys/sign-in-options",
        { anonymous: true },
      );
      const response = await signWithPasskey(options);
      const signed = await api<{ session: Opened }>("POST", "/v1/auth/passkeys/sign-in", {
        anonymous: true,
        body: { challengeId, response, deviceId: deviceId() },
      });
      await startSession(signed.session, "passkey");
      done();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(undefined);
    }
  };

  return (
    <Main title="Sign in" lead="Your wallet, payments and reports, on this server.">
      {reason === "expired" ? (
        <p class="banner" role="status">
          Your session ended. Sign in again to continue.
        </p>
      ) : null}
      {reason === "signed_out" ? (
        <p class="banner" role="status">
          You are signed out.
        </p>
      ) : null}
      {error ? <ErrorNotice error={error} /> : null}
      {hasFeature(config, "passkeys") ? (
        <Section title="With a passkey">
          <p>Your device unlocks it with your fingerprint, face or PIN. No email or password to type.</p>
          <button type="button" onClick={() => void withPasskey()} disabled={busy !== undefined}>
            {busy === "passkey" ? "Waiting for your device…" : "Sign in with a passkey"}
          </button>
        </Section>
      ) : null}
      {hasFeature(config, "passwordSignIn") ? (
        <Section title="With your email and password">
          <PasswordSignIn onSignedIn={done} />
        </Section>
      ) : null}
      <div class="grid two">
        <Section title="With your API key">
          <form onSubmit={withKey} noValidate>
            <Field
              id="api-key"
              label="API key"
              type="password"
              autoComplete="off"
              spellcheck={false}
              hint="Given to you once when your account was created. It opens a session in this tab and is not stored."
              problem={keyProblem}
              value={key}
              onInput={setKey}
            />
            <button type="submit" disabled={busy !== undefined}>
              {busy === "key" ? "Signing in…" : "Sign in"}
            </button>
          </form>
        </Section>
        <Section title="With an Ethereum wallet">
          <p>
            For self-custody wallets already connected to your account: your wallet signs a sign-in message. No gas, no
            transaction.
          </p>
          <button type="button" onClick={() => void withEthereum()} disabled={busy !== undefined}>
            {busy === "siwe" ? "Waiting for your wallet…" : "Sign in with Ethereum"}
          </button>
        </Section>
      </div>
      <p>
        New here? <a href="/sign-up">{hasFeature(config, "signUp") ? "Create an account" : "How to get an account"}</a>
      </p>
      {error instanceof ApiError && error.code === "WALLET_NOT_REGISTERED" ? (
        <p class="hint">Sign in with your API key once, then connect this wallet under Wallet.</p>
      ) : null}
    </Main>
  );
}
