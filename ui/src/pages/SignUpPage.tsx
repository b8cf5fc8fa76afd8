/**
 * Sign-up for custodial users (docs/design/auth.md: POST /v1/auth/sign-up, a session at once).
 * Until the server has the route, the page says how accounts are made today.
 */
import { useState } from "preact/hooks";

import { api } from "../http/client.ts";
import { Field } from "../components/Field.tsx";
import { Main } from "../components/Main.tsx";
import { ErrorNotice, Loading, Section } from "../components/States.tsx";
import { hasFeature, useConfig } from "../core/config.ts";
import { deviceId } from "../core/device.ts";
import { navigate } from "../core/router.ts";
import { signIn, type Role } from "../core/session.ts";

type SignedIn = {
  status: "signed_in";
  user: { id: string; role: Role; name: string; frozen: boolean };
  session: { id: string; token: string; expiresAt: string };
};

export function SignUpPage() {
  const { config } = useConfig();
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [problem, setProblem] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    if (password.length < 10) return setProblem("Use at least 10 characters.");
    setProblem(undefined);
    setBusy(true);
    try {
      const answer = await api<SignedIn>("POST", "/v1/auth/sign-up", {
        anonymous: true,
        body: { name: name.trim(), email: email.trim(), password, deviceId: deviceId() },
      });
      signIn({
        token: answer.session.token,
        sessionId: answer.session.id,
        expiresAt: answer.session.expiresAt,
        via: "password",
        user: { id: answer.user.id, role: answer.user.role, name: answer.user.name, frozen: answer.user.frozen },
      });
      navigate("/wallet", { replace: true });
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  if (!config) return <Loading />;
  if (!hasFeature(config, "signUp"))
    return (
      <Main title="Get an account">
        <Section title="How accounts are made here">
          <p>
            This server does not take sign-ups yet: an administrator creates your account and gives you an API key once.{" "}
            <a href="/sign-in">Sign in with it</a>.
          </p>
        </Section>
      </Main>
    );
  return (
    <Main title="Create your account" lead="A custodial wallet: we keep the keys, you hold no gas.">
      {error ? <ErrorNotice error={error} /> : null}
      <form onSubmit={submit} noValidate class="narrow">
        <Field id="signup-name" label="Your name" autoComplete="name" value={name} onInput={setName} />
        <Field id="signup-email" label="Email" type="email" autoComplete="email" value={email} onInput={setEmail} />
        <Field
          id="signup-password"
          label="Password"
          type="password"
          autoComplete="new-password"
          hint="At least 10 characters."
          problem={problem}
          value={password}
          onInput={setPassword}
        />
        <button type="submit" disabled={busy}>
          {busy ? "Creating…" : "Create account"}
        </button>
      </form>
      <p>
        Already have an account? <a href="/sign-in">Sign in</a>
      </p>
    </Main>
  );
}
