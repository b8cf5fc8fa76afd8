/**
 * The step-up dialog (docs/design/auth.md, "Step-up"): shows what is being approved — the amount and
 * recipient of this movement, or the security setting, and the rules' reasons — and takes one
 * second factor the account has: a TOTP code, a recovery code, or the passkey (WebAuthn, with the
 * challenge the server derived from this request's digest, so the assertion approves it alone).
 * A refused answer (wrong or reused code, a passkey that did not verify) shows the API's reason
 * and the dialog stays open for another try.
 */
import { useEffect, useRef, useState } from "preact/hooks";

import { api } from "../http/client.ts";
import { StepUpCancelled, stepUp } from "../http/money.ts";
import { signWithPasskey } from "../http/passkey.ts";
import { useStore } from "../core/store.ts";
import { Address } from "./Address.tsx";
import { Amount } from "./Amount.tsx";
import { Field } from "./Field.tsx";
import { ErrorNotice } from "./States.tsx";

/** A security action's name in words (the API's `details.action`). */
const ACTIONS: Record<string, string> = {
  add_passkey: "Add a passkey",
  remove_passkey: "Remove a passkey",
  create_api_key: "Create an API key",
  create_session: "Open a session from this one",
  regenerate_recovery_codes: "Make new recovery codes",
};

export function StepUpDialog() {
  const request = useStore(stepUp);
  const dialog = useRef<HTMLDialogElement>(null);
  const [code, setCode] = useState("");
  const [useRecovery, setUseRecovery] = useState(false);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (request && dialog.current && !dialog.current.open) dialog.current.showModal();
    if (!request && dialog.current?.open) dialog.current.close();
    setCode("");
    setError(undefined);
    setUseRecovery(request ? !request.challenge.factors.includes("totp") : false);
  }, [request]);

  if (!request) return <dialog ref={dialog} aria-label="Confirm it is you" />;
  const { challenge } = request;
  const factors = challenge.factors;
  const takesCode = factors.includes("totp") || factors.includes("recovery_code");
  const cancel = () => request.reject(new StepUpCancelled());

  const approve = async (body: Record<string, unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      const answer = await api<{ approval: { token: string } }>("POST", "/v1/auth/step-up", {
        body: { challengeId: challenge.id, ...body },
      });
      request.resolve(answer.approval.token);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  const withPasskey = async () => {
    setError(undefined);
    try {
      const response = await signWithPasskey(challenge.passkey!.options);
      await approve({ passkey: { response } });
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <dialog
      ref={dialog}
      aria-labelledby="step-up-title"
      onCancel={(event) => {
        event.preventDefault();
        cancel();
      }}
    >
      <h2 id="step-up-title">Confirm it is you</h2>
      <p>This needs your second factor, for exactly this request:</p>
      <dl class="facts">
        {request.action ? (
          <>
            <dt>Setting</dt>
            <dd>{ACTIONS[request.action] ?? request.action.replace(/_/g, " ")}</dd>
          </>
        ) : null}
        {request.movement?.amount ? (
          <>
            <dt>Amount</dt>
            <dd data-testid="step-up-amount">
              <Amount units={request.movement.amount} />
            </dd>
          </>
        ) : null}
        {request.movement?.to ? (
          <>
            <dt>To</dt>
            <dd>
              <Address value={request.movement.to} label="recipient" />
            </dd>
          </>
        ) : null}
      </dl>
      {request.reasons.length > 0 ? (
        <ul>
          {request.reasons.map((reason) => (
            <li key={reason.code}>{reason.message}</li>
          ))}
        </ul>
      ) : null}
      {error ? <ErrorNotice error={error} /> : null}
      {factors.includes("passkey") && challenge.passkey ? (
        <div class="actions">
          <button type="button" onClick={() => void withPasskey()} disabled={busy}>
            Use my passkey
          </button>
        </div>
      ) : null}
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void approve(useRecovery ? { recoveryCode: code.trim() } : { totp: { code: code.trim() } });
        }}
      >
        {takesCode ? (
          <Field
            id="step-up-code"
            label={useRecovery ? "Recovery code" : "Code from your authenticator app"}
            inputMode={useRecovery ? "text" : "numeric"}
            autoComplete="one-time-code"
            value={code}
            onInput={setCode}
          />
        ) : null}
        <div class="actions">
          {takesCode ? (
            <button
              type="submit"
              class={factors.includes("passkey") ? "secondary" : undefined}
              disabled={busy || code.trim() === ""}
            >
              Approve
            </button>
          ) : null}
          {factors.includes("recovery_code") && factors.includes("totp") ? (
            <button type="button" class="link" onClick={() => setUseRecovery(!useRecovery)}>
              {useRecovery ? "Use the authenticator code" : "Use a recovery code"}
            </button>
          ) : null}
          <button type="button" class="secondary" onClick={cancel}>
            Cancel
          </button>
        </div>
      </form>
    </dialog>
  );
}
