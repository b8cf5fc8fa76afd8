import { randomUUID } from "node:crypto";

import { eq } from "drizzle-orm";

import { ValidationError } from "../../../lib/errors/base.ts";
import { apiUsers } from "../../db/schema.ts";
import { passwordCredentials } from "../../db/security-schema.ts";
import type { AppServices } from "../../dependencies.ts";
import { ConflictError } from "../../errors/api-errors.ts";
import { deviceHashOf, type RequestOrigin } from "../request-origin.ts";
import { recordKnownDevice } from "../known-devices.ts";
import { openSignInSession, type OpenedSession } from "../sessions.ts";
import { accountView, normaliseEmail, type AccountView } from "./account-view.ts";
import { hashPassword, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from "./password-hash.ts";

type Services = Pick<AppServices, "database" | "settings">;

/**
 * Signs a custodial user up with email + password and opens their first session at once.
 * @throws ValidationError PASSWORD_TOO_SHORT (400), ConflictError EMAIL_ALREADY_REGISTERED (409)
 */
export async function signUp(
  services: Services,
  input: { email: string; password: string; name: string; origin: RequestOrigin },
): Promise<{ user: AccountView; session: OpenedSession }> {
  if (input.password.length < PASSWORD_MIN_LENGTH) {
    throw new ValidationError(
      "PASSWORD_TOO_SHORT",
      `A password needs at least ${PASSWORD_MIN_LENGTH} characters (at most ${PASSWORD_MAX_LENGTH})`,
      { details: { minLength: PASSWORD_MIN_LENGTH } },
    );
  }
  const email = normaliseEmail(input.email);
  const db = services.database.db;
  const taken = async () =>
    (
      await db
        .select({ id: passwordCredentials.userId })
        .from(passwordCredentials)
        .where(eq(passwordCredentials.email, email))
    ).length > 0;
  const alreadyRegistered = () =>
    new ConflictError("EMAIL_ALREADY_REGISTERED", "This email is registered: sign in, or reset the password");
  if (await taken()) throw alreadyRegistered();
  const passwordHash = await hashPassword(input.password, services.settings.passwordScryptLog2N);
  const userId = randomUUID();
  try {
    await db.transaction(async (tx) => {
      await tx.insert(apiUsers).values({ id: userId, role: "user", name: input.name });
      await tx.insert(passwordCredentials).values({ userId, email, passwordHash });
    });
  } catch (error) {
    // Two sign-ups of one email at once: the unique index let one through.
    if (await taken()) throw alreadyRegistered();
    throw error;
  }
  const deviceHash = deviceHashOf(input.origin);
  await recordKnownDevice(services.database, userId, deviceHash);
  const session = await openSignInSession(services, {
    userId,
    method: "password",
    ip: input.origin.ip,
    userAgent: input.origin.userAgent,
    deviceHash,
  });
  return { user: await accountView(services.database, userId), session };
}
