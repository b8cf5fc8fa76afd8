/**
 * The signed-in session: an opaque API session token (POST /v1/auth/sessions from an API key, or
 * POST /v1/auth/siwe), kept in sessionStorage — it lives as long as the tab, is never sent to
 * another origin, and an API key typed to open it is never stored at all.
 */
import { createStore } from "./store.ts";

export type Role = "user" | "merchant" | "operator" | "auditor" | "admin";
export type Session = {
  token: string;
  sessionId: string;
  expiresAt: string;
  via: "api_key" | "siwe" | "password" | "passkey";
  user: { id: string; role: Role; name: string; frozen: boolean };
  /** The self-custody wallet that signed in with Ethereum. */
  address?: string;
};

const KEY = "stablerail.session";

function load(): Session | undefined {
  try {
    const raw = sessionStorage.getItem(KEY);
    const parsed = raw ? (JSON.parse(raw) as Session) : undefined;
    return parsed && new Date(parsed.expiresAt).getTime() > Date.now() ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export const session = createStore<Session | undefined>(load());
/** Why the last session ended, shown on the sign-in page. */
export const signOutReason = createStore<"expired" | "signed_out" | undefined>(undefined);

export function signIn(value: Session): void {
  sessionStorage.setItem(KEY, JSON.stringify(value));
  signOutReason.set(undefined);
  session.set(value);
}

/** Forgets the session in this tab (the caller revokes it on the server first when it can). */
export function signOutLocally(reason: "expired" | "signed_out"): void {
  sessionStorage.removeItem(KEY);
  signOutReason.set(reason);
  session.set(undefined);
}
