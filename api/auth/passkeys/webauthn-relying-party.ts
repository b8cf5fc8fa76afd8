/**
 * The WebAuthn relying party this API is, and the one-use challenges it issues (kept in Redis for
 * 5 minutes under a random id, taken with GETDEL so an assertion is verified against a challenge
 * once). The RP id is API_PUBLIC_ORIGIN's host: a passkey made on it works only on that origin.
 */
import { randomUUID } from "node:crypto";

import type { Redis } from "ioredis";

import { AuthenticationError } from "../../errors/api-errors.ts";

export const PASSKEY_CHALLENGE_TTL_SECONDS = 300;
export const RP_NAME = "Stablerail";

export const relyingPartyOf = (settings: { publicOrigin: string }) => ({
  rpID: new URL(settings.publicOrigin).hostname,
  origin: settings.publicOrigin,
});

type Deps = { redis: Redis; redisPrefix: string };
export type StoredChallenge = { purpose: "registration" | "sign_in"; challenge: string; userId: string | null };

const keyOf = (deps: Deps, id: string) => `${deps.redisPrefix}:webauthn-challenge:${id}`;

/** Stores a challenge. @returns its id and expiry */
export async function storePasskeyChallenge(deps: Deps, value: StoredChallenge) {
  const id = randomUUID();
  await deps.redis.set(keyOf(deps, id), JSON.stringify(value), "EX", PASSKEY_CHALLENGE_TTL_SECONDS);
  return { challengeId: id, expiresAt: new Date(Date.now() + PASSKEY_CHALLENGE_TTL_SECONDS * 1000) };
}

/** Takes a challenge of `purpose` (once). @throws CHALLENGE_INVALID */
export async function takePasskeyChallenge(
  deps: Deps,
  id: string,
  purpose: StoredChallenge["purpose"],
): Promise<StoredChallenge> {
  const raw = await deps.redis.getdel(keyOf(deps, id));
  const value = raw ? (JSON.parse(raw) as StoredChallenge) : undefined;
  if (!value || value.purpose !== purpose) {
    throw new AuthenticationError(
      "CHALLENGE_INVALID",
      "The passkey challenge is unknown, expired or used: ask for new options",
    );
  }
  return value;
}
