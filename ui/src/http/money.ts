/**
 * Money POSTs (transfers, payments, captures, refunds, voids, payouts) and security settings: one
 * Idempotency-Key per attempt, kept when the same attempt is sent again, and the step-up of
 * docs/design/auth.md — a `403 STEP_UP_REQUIRED` asks the person for a second factor bound to
 * exactly this request, then the same request (same body, same key) goes again with
 * `Stablerail-Step-Up`.
 */
import { newIdempotencyKey } from "../core/format.ts";
import { createStore } from "../core/store.ts";
import { api, ApiError } from "./client.ts";

export type StepUpChallenge = {
  id: string;
  purpose: string;
  digest: string;
  expiresAt: string;
  factors: string[];
  passkey?: { options: unknown } | null;
};

export type StepUpRequest = {
  challenge: StepUpChallenge;
  reasons: { code: string; message: string }[];
  movement?: { amount?: string; to?: string; kind?: string };
  /** A security setting's action (`add_passkey`, `remove_passkey`, `create_api_key`, …). */
  action?: string;
  resolve: (approvalToken: string) => void;
  reject: (error: unknown) => void;
};

/** The step-up the app is asking the person for right now (the dialog in app.tsx shows it). */
export const stepUp = createStore<StepUpRequest | undefined>(undefined);

/** The person closed the step-up dialog without approving: nothing was sent. */
export class StepUpCancelled extends ApiError {
  constructor() {
    super("STEP_UP_CANCELLED", "The confirmation was closed without an approval.", 0);
  }
}

function askForStepUp(error: ApiError): Promise<string> {
  const details = (error.details ?? {}) as {
    challenge?: StepUpChallenge | null;
    reasons?: StepUpRequest["reasons"];
    movement?: StepUpRequest["movement"];
    action?: string;
  };
  if (!details.challenge) return Promise.reject(error);
  return new Promise<string>((resolve, reject) =>
    stepUp.set({
      challenge: details.challenge!,
      reasons: details.reasons ?? [],
      movement: details.movement,
      action: details.action,
      resolve: (token) => (stepUp.set(undefined), resolve(token)),
      reject: (failure) => (stepUp.set(undefined), reject(failure)),
    }),
  );
}

/**
 * Sends a request that may need a step-up: on `STEP_UP_REQUIRED` the dialog asks for the second
 * factor, then `send` runs again with the approval token. An approval refused as expired, used or
 * unknown is asked for afresh by sending again without it (the new `STEP_UP_REQUIRED` shows the
 * movement it binds). An approval refused because it was given for *another* request
 * (`other_request`: the amount, recipient or key changed between approving and sending) is never
 * re-asked: that is what tampering looks like, so the refusal is shown and nothing is sent.
 */
export async function withStepUp<T>(send: (approval: string | undefined) => Promise<T>): Promise<T> {
  let approval: string | undefined;
  for (let round = 0; ; round++) {
    try {
      return await send(approval);
    } catch (error) {
      if (!(error instanceof ApiError) || round >= 3) throw error;
      if (error.code === "STEP_UP_APPROVAL_INVALID") {
        const reason = (error.details as { reason?: string } | undefined)?.reason;
        if (reason === "other_request") throw error;
        approval = undefined;
        continue;
      }
      if (error.code !== "STEP_UP_REQUIRED") throw error;
      approval = await askForStepUp(error);
    }
  }
}

/** The step-up header for an approval token, if any. */
export const stepUpHeader = (approval: string | undefined): Record<string, string> =>
  approval ? { "stablerail-step-up": approval } : {};

/**
 * Sends a money POST; handles a step-up.
 * @param idempotencyKey - the attempt's key (a new one by default)
 */
export async function moneyPost<T>(path: string, body: unknown, idempotencyKey = newIdempotencyKey()): Promise<T> {
  return withStepUp((approval) => api<T>("POST", path, { body, idempotencyKey, headers: stepUpHeader(approval) }));
}
