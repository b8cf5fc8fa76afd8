/**
 * Money POSTs (transfers, payments, captures, refunds, voids, payouts): one Idempotency-Key per
 * attempt, kept when the same attempt is sent again, and the step-up of docs/design/auth.md — a
 * `403 STEP_UP_REQUIRED` asks the person for a second factor bound to exactly this movement, then
 * the same request (same body, same key) goes again with `Stablerail-Step-Up`.
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
  resolve: (approvalToken: string) => void;
  reject: (error: unknown) => void;
};

/** The step-up the app is asking the person for right now (the dialog in app.tsx shows it). */
export const stepUp = createStore<StepUpRequest | undefined>(undefined);

function askForStepUp(error: ApiError): Promise<string> {
  const details = (error.details ?? {}) as {
    challenge?: StepUpChallenge;
    reasons?: StepUpRequest["reasons"];
    movement?: StepUpRequest["movement"];
  };
  if (!details.challenge) return Promise.reject(error);
  return new Promise<string>((resolve, reject) =>
    stepUp.set({
      challenge: details.challenge!,
      reasons: details.reasons ?? [],
      movement: details.movement,
      resolve: (token) => (stepUp.set(undefined), resolve(token)),
      reject: (failure) => (stepUp.set(undefined), reject(failure)),
    }),
  );
}

/**
 * Sends a money POST; handles a step-up (at most twice: an approval refused as stale gets a fresh one).
 * @param idempotencyKey - the attempt's key (a new one by default)
 */
export async function moneyPost<T>(path: string, body: unknown, idempotencyKey = newIdempotencyKey()): Promise<T> {
  let approval: string | undefined;
  for (let round = 0; ; round++) {
    try {
      return await api<T>("POST", path, {
        body,
        idempotencyKey,
        headers: approval ? { "stablerail-step-up": approval } : {},
      });
    } catch (error) {
      const stepUpNeeded =
        error instanceof ApiError &&
        (error.code === "STEP_UP_REQUIRED" || error.code === "STEP_UP_APPROVAL_INVALID") &&
        round < 2;
      if (!stepUpNeeded) throw error;
      approval = await askForStepUp(error);
    }
  }
}
