/**
 * The browser half of a passkey (WebAuthn through @simplewebauthn/browser, loaded only when a
 * passkey is used, so it stays out of the first load). The browser's own failures — the person
 * cancelled, the prompt timed out, no passkey on this device — become one {@link ApiError} code,
 * PASSKEY_CANCELLED, so every screen shows them as it shows the API's refusals.
 */
import { ApiError } from "./client.ts";

function browserFailure(error: unknown): never {
  if (error instanceof ApiError) throw error;
  const message = error instanceof Error ? error.message : String(error);
  throw new ApiError("PASSKEY_CANCELLED", message, 0);
}

/** Asks the authenticator to make a passkey for the API's registration options. */
export async function createPasskey(optionsJSON: unknown): Promise<unknown> {
  const { startRegistration } = await import("@simplewebauthn/browser");
  return startRegistration({ optionsJSON: optionsJSON as never }).catch(browserFailure);
}

/** Asks the authenticator to sign the API's challenge (sign-in or step-up options). */
export async function signWithPasskey(optionsJSON: unknown): Promise<unknown> {
  const { startAuthentication } = await import("@simplewebauthn/browser");
  return startAuthentication({ optionsJSON: optionsJSON as never }).catch(browserFailure);
}
