/**
 * The step-up dialog (docs/design/auth.md, "Step-up"): shows what is being approved — the amount and
 * recipient of this movement and the rules' reasons — and takes one second factor: a TOTP code, a
 * recovery code, or the passkey (WebAuthn, with the challenge bound to this movement).
 */
import { useEffect, useRef, useState } from "preact/hooks";

import { api } from "../http/client.ts";
import { stepUp } from "../http/money.ts";
import { useStore } from "../core/store.ts";
import { Address } from "./Address.tsx";
import { Amount } from "./Amount.tsx";
import { Field } from "./Field.tsx";
import { ErrorNotice } from "./States.tsx";

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
  }, [request]);

  if (!request) return <dialog ref={dialog} aria-label="Confirm it is you" />;
  const { challenge } = request;

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
    try {
      const { startAuthentication } = await import("@simplewebauthn/browser");
      const response = await startAuthentication({ optionsJSON: challenge.passkey!.options as never });
      await approve({ passkey: { response } });
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <dialog ref={dialog} aria-labelledby="step-up-title" onCancel={() => request.reject(new Error("cancelled"))}>
      <h2 id="step-up-title">Confirm it is you</h2>
      <p>This needs your second factor, for exactly this request:</p>
      <dl class="facts">
        {request.movement?.amount ? (
          <>
            <dt>Amount</dt>
            <dd>
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
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void approve(useRecovery ? { recoveryCode: code.trim() } : { totp: { code: code.trim() } });
        }}
      >
        <Field
          id="step-up-code"
          label={useRecovery ? "Recovery code" : "Code from your authenticator app"}
          inputMode={useRecovery ? "text" : "numeric"}
          autoComplete="one-time-code"
          value={code}
          onInput={setCode}
        />
        <div class="actions">
          <button type="submit" disabled={busy || code.trim() === ""}>
            Approve
          </button>
          {challenge.factors.includes("passkey") && challenge.passkey ? (
            <button type="button" class="secondary" onClick={() => void withPasskey()} disabled={busy}>
              Use my passkey
            </button>
          ) : null}
          {challenge.factors.includes("recovery_code") ? (
            <button type="button" class="link" onClick={() => setUseRecovery(!useRecovery)}>
              {useRecovery ? "Use the authenticator code" : "Use a recovery code"}
            </button>
          ) : null}
          <button type="button" class="secondary" onClick={() => request.reject(new Error("cancelled"))}>
            Cancel
          </button>
        </div>
      </form>
    </dialog>
  );
}
