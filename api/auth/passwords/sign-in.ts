import { eq } from "drizzle-orm";

import { apiUsers } from "../../db/schema.ts";
import { passwordCredentials } from "../../db/security-schema.ts";
import type { AppServices } from "../../dependencies.ts";
import { AuthenticationError, PermissionError } from "../../errors/api-errors.ts";
import { enrolledFactors, type FactorName } from "../factors.ts";
import { recordKnownDevice } from "../known-devices.ts";
import { passkeyAssertionOptions } from "../passkeys/passkey-credentials.ts";
import { reserveAttempt, unknownEmailAccount } from "../lockout/auth-lockout.ts";
import { deviceHashOf, type RequestOrigin } from "../request-origin.ts";
import { openSignInSession, type OpenedSession } from "../sessions.ts";
import { issueSignInTicket } from "../sign-in-ticket.ts";
import { accountView, normaliseEmail, type AccountView } from "./account-view.ts";
import { hashPassword, verifyPassword } from "./password-hash.ts";

type Services = Pick<AppServices, "database" | "settings" | "redis" | "redisPrefix">;

export type SignedIn = { status: "signed_in"; user: AccountView; session: OpenedSession };
export type SecondFactorRequired = {
  status: "second_factor_required";
  ticket: string;
  expiresAt: Date;
  factors: FactorName[];
  /** The passkey assertion options when the user has a passkey (api/auth/passkeys). */
  passkey: { options: unknown } | null;
};

/**
 * Builds the passkey options a second-factor answer must sign, and the challenge to expect back;
 * supplied by api/auth/passkeys so this file does not depend on WebAuthn.
 */
export type PasskeyOptionsFor = (userId: string) => Promise<{ options: unknown; challenge: string } | null>;

/**
 * A hash of a random password at the current cost, verified when the email is unknown so that an
 * unknown email and a wrong password take the same time (one per cost; made once per process).
 */
const decoyHashes = new Map<number, Promise<string>>();
const decoyHash = (log2N: number) => {
  let hash = decoyHashes.get(log2N);
  if (!hash) decoyHashes.set(log2N, (hash = hashPassword(crypto.randomUUID(), log2N)));
  return hash;
};

/**
 * Opens a session after the user's first step at completing it, or asks for the second one.
 * @throws INVALID_CREDENTIALS (401, the same for an unknown email and a wrong password),
 *   TOO_MANY_ATTEMPTS (429), ACCOUNT_FROZEN (403; told only to the password's holder)
 */
export async function signInWithPassword(
  services: Services,
  input: { email: string; password: string; origin: RequestOrigin; passkeyOptionsFor?: PasskeyOptionsFor },
): Promise<SignedIn | SecondFactorRequired> {
  const email = normaliseEmail(input.email);
  const [credential] = await services.database.db
    .select({ userId: passwordCredentials.userId, hash: passwordCredentials.passwordHash, frozen: apiUsers.frozen })
    .from(passwordCredentials)
    .innerJoin(apiUsers, eq(apiUsers.id, passwordCredentials.userId))
    .where(eq(passwordCredentials.email, email));
  const attempt = await reserveAttempt(services, {
    account: credential?.userId ?? unknownEmailAccount(email),
    ip: input.origin.ip,
  });
  const stored = credential?.hash ?? (await decoyHash(services.settings.passwordScryptLog2N));
  const matches = await verifyPassword(input.password, stored);
  if (!credential || !matches) {
    throw new AuthenticationError("INVALID_CREDENTIALS", "The email or the password is wrong");
  }
  await attempt.succeeded();
  if (credential.frozen) {
    throw new PermissionError("ACCOUNT_FROZEN", "This account is frozen: it cannot sign in; contact support");
  }
  const deviceHash = deviceHashOf(input.origin);
  const factors = await enrolledFactors(services.database, credential.userId);
  if (factors.names.length > 0) {
    const optionsFor: PasskeyOptionsFor =
      input.passkeyOptionsFor ??
      (async (userId) => {
        const options = await passkeyAssertionOptions(services, { userId });
        return { options, challenge: options.challenge };
      });
    const passkey = factors.passkeys > 0 ? await optionsFor(credential.userId) : null;
    const issued = await issueSignInTicket(services, {
      userId: credential.userId,
      deviceHash,
      passkeyChallenge: passkey?.challenge ?? null,
    });
    return {
      status: "second_factor_required",
      ...issued,
      factors: factors.names,
      passkey: passkey ? { options: passkey.options } : null,
    };
  }
  return completeSignIn(services, { userId: credential.userId, method: "password", origin: input.origin, deviceHash });
}

/** Opens the session of a sign-in whose factors all passed, and records the device. */
export async function completeSignIn(
  services: Pick<AppServices, "database" | "settings">,
  input: { userId: string; method: "password" | "passkey"; origin: RequestOrigin; deviceHash?: string },
): Promise<SignedIn> {
  const deviceHash = input.deviceHash ?? deviceHashOf(input.origin);
  const session = await openSignInSession(services, {
    userId: input.userId,
    method: input.method,
    ip: input.origin.ip,
    userAgent: input.origin.userAgent,
    deviceHash,
  });
  await recordKnownDevice(services.database, input.userId, deviceHash);
  return { status: "signed_in", user: await accountView(services.database, input.userId), session };
}
