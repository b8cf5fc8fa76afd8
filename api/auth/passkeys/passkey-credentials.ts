/**
 * Passkeys (WebAuthn, @simplewebauthn/server): register one, verify an assertion of one (sign-in,
 * second factor, step-up), list and remove. User verification is required throughout — a passkey
 * is possession plus a biometric or PIN — and the signature counter must move forward when the
 * authenticator keeps one (a cloned authenticator shows an old counter).
 */
import { randomBytes } from "node:crypto";

import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type RegistrationResponseJSON,
} from "@simplewebauthn/server";
import { and, eq } from "drizzle-orm";

import type { Database } from "../../../lib/db/database.ts";
import { NotFoundError } from "../../../lib/errors/base.ts";
import { apiUsers } from "../../db/schema.ts";
import { passwordCredentials, webauthnCredentials } from "../../db/security-schema.ts";
import type { AppServices } from "../../dependencies.ts";
import { AuthenticationError } from "../../errors/api-errors.ts";
import { relyingPartyOf, RP_NAME, storePasskeyChallenge, takePasskeyChallenge } from "./webauthn-relying-party.ts";

type Services = Pick<AppServices, "database" | "redis" | "redisPrefix" | "settings">;
type PasskeyRow = typeof webauthnCredentials.$inferSelect;

const invalid = (why: string) => new AuthenticationError("PASSKEY_INVALID", `The passkey was not accepted: ${why}`);

/** A passkey as the API shows it. */
export const passkeyView = (row: PasskeyRow) => ({
  id: row.id,
  name: row.name,
  createdAt: row.createdAt,
  lastUsedAt: row.lastUsedAt,
  backedUp: row.backedUp,
  transports: row.transports as string[],
});

const passkeysOf = (database: Database, userId: string) =>
  database.db.select().from(webauthnCredentials).where(eq(webauthnCredentials.userId, userId));

/** The user's passkeys, oldest first. */
export async function listPasskeys(database: Database, userId: string) {
  return (await passkeysOf(database, userId)).map(passkeyView);
}

/**
 * Registration options for a new passkey of `userId` (a discoverable credential with user
 * verification; the user's existing passkeys excluded).
 */
export async function passkeyRegistrationOptions(services: Services, userId: string) {
  const { rpID } = relyingPartyOf(services.settings);
  const existing = await passkeysOf(services.database, userId);
  const [user] = await services.database.db
    .select({ name: apiUsers.name, email: passwordCredentials.email })
    .from(apiUsers)
    .leftJoin(passwordCredentials, eq(passwordCredentials.userId, apiUsers.id))
    .where(eq(apiUsers.id, userId));
  // One random user handle per user, the same for all its passkeys: never the user id itself.
  const userHandle = existing[0]?.userHandle ?? randomBytes(32).toString("base64url");
  const options = await generateRegistrationOptions({
    rpName: RP_NAME,
    rpID,
    userName: user?.email ?? user?.name ?? userId,
    userDisplayName: user?.name ?? "",
    userID: Buffer.from(userHandle, "base64url"),
    attestationType: "none",
    excludeCredentials: existing.map((row) => ({ id: row.id, transports: row.transports as string[] })),
    authenticatorSelection: { residentKey: "required", userVerification: "required" },
  });
  const stored = await storePasskeyChallenge(services, {
    purpose: "registration",
    challenge: options.challenge,
    userId,
  });
  return { ...stored, options };
}

/**
 * Verifies a registration response against its challenge and stores the passkey.
 * @throws CHALLENGE_INVALID, PASSKEY_INVALID
 */
export async function registerPasskey(
  services: Services,
  input: { userId: string; challengeId: string; response: unknown; name?: string | undefined },
) {
  const challenge = await takePasskeyChallenge(services, input.challengeId, "registration");
  if (challenge.userId !== input.userId) throw invalid("the challenge was issued to another user");
  const { rpID, origin } = relyingPartyOf(services.settings);
  const verification = await verifyRegistrationResponse({
    response: input.response as RegistrationResponseJSON,
    expectedChallenge: challenge.challenge,
    expectedOrigin: origin,
    expectedRPID: rpID,
    requireUserVerification: true,
  }).catch((error: Error) => {
    throw invalid(error.message);
  });
  if (!verification.verified) throw invalid("the attestation did not verify");
  const info = verification.registrationInfo;
  const existing = await passkeysOf(services.database, input.userId);
  const [row] = await services.database.db
    .insert(webauthnCredentials)
    .values({
      id: info.credential.id,
      userId: input.userId,
      publicKey: Buffer.from(info.credential.publicKey).toString("base64url"),
      counter: info.credential.counter,
      transports: info.credential.transports ?? [],
      deviceType: info.credentialDeviceType,
      backedUp: info.credentialBackedUp,
      name: input.name ?? `Passkey ${existing.length + 1}`,
      userHandle:
        existing[0]?.userHandle ??
        (input.response as { response?: { userHandle?: string } }).response?.userHandle ??
        randomBytes(32).toString("base64url"),
    })
    .returning();
  return passkeyView(row!);
}

/**
 * Assertion options naming `challenge` (base64url of its bytes). With `userId`, only that user's
 * passkeys are allowed; without, any discoverable one (passkey sign-in: no email typed).
 */
export async function passkeyAssertionOptions(
  services: Pick<Services, "database" | "settings">,
  input: { userId?: string; challenge?: string },
) {
  const { rpID } = relyingPartyOf(services.settings);
  const allowCredentials = input.userId
    ? (await passkeysOf(services.database, input.userId)).map((row) => ({
        id: row.id,
        transports: row.transports as never[],
      }))
    : [];
  return generateAuthenticationOptions({
    rpID,
    allowCredentials,
    userVerification: "required",
    timeout: 300_000,
    ...(input.challenge ? { challenge: Buffer.from(input.challenge, "base64url") } : {}),
  });
}

/** Options and a stored challenge for signing in with a passkey alone. */
export async function passkeySignInOptions(services: Services) {
  const options = await passkeyAssertionOptions(services, {});
  const stored = await storePasskeyChallenge(services, {
    purpose: "sign_in",
    challenge: options.challenge,
    userId: null,
  });
  return { ...stored, options };
}

/**
 * Verifies an assertion against `expectedChallenge`, for `userId` if given, and moves the counter.
 * @returns the passkey's user and credential id
 * @throws PASSKEY_INVALID
 */
export async function verifyPasskeyAssertion(
  services: Pick<Services, "database" | "settings">,
  input: { response: unknown; expectedChallenge: string; userId?: string | undefined },
): Promise<{ userId: string; credentialId: string }> {
  const response = input.response as AuthenticationResponseJSON;
  const [row] = await services.database.db
    .select()
    .from(webauthnCredentials)
    .where(
      input.userId
        ? and(eq(webauthnCredentials.id, String(response.id)), eq(webauthnCredentials.userId, input.userId))
        : eq(webauthnCredentials.id, String(response.id)),
    );
  if (!row) throw invalid("it is not registered here");
  const { rpID, origin } = relyingPartyOf(services.settings);
  const verification = await verifyAuthenticationResponse({
    response,
    expectedChallenge: input.expectedChallenge,
    expectedOrigin: origin,
    expectedRPID: rpID,
    credential: {
      id: row.id,
      publicKey: Buffer.from(row.publicKey, "base64url"),
      counter: row.counter,
      transports: row.transports as never[],
    },
    requireUserVerification: true,
  }).catch((error: Error) => {
    throw invalid(error.message);
  });
  if (!verification.verified) throw invalid("the signature did not verify");
  await services.database.db
    .update(webauthnCredentials)
    .set({ counter: verification.authenticationInfo.newCounter, lastUsedAt: new Date() })
    .where(eq(webauthnCredentials.id, row.id));
  return { userId: row.userId, credentialId: row.id };
}

/** Takes a sign-in challenge and verifies the assertion made for it. */
export async function verifyPasskeySignIn(services: Services, input: { challengeId: string; response: unknown }) {
  const challenge = await takePasskeyChallenge(services, input.challengeId, "sign_in");
  return verifyPasskeyAssertion(services, { response: input.response, expectedChallenge: challenge.challenge });
}

/** Removes one of the user's passkeys. @throws PASSKEY_NOT_FOUND */
export async function removePasskey(database: Database, userId: string, passkeyId: string) {
  const removed = await database.db
    .delete(webauthnCredentials)
    .where(and(eq(webauthnCredentials.id, passkeyId), eq(webauthnCredentials.userId, userId)))
    .returning({ id: webauthnCredentials.id });
  if (removed.length === 0) throw new NotFoundError("PASSKEY_NOT_FOUND", "No such passkey");
}
