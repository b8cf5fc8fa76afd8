/**
 * A user's TOTP factor: enrol (pending, 10 minutes), confirm with a first code (then it is enabled and
 * the recovery codes are issued), check a code once (replay refused), disable. The seed is stored
 * encrypted (totp-secret-box.ts). Replay: `last_time_step` is the newest step accepted; a code is
 * accepted only by the conditional UPDATE that raises it, so the same code — or an older one — is
 * refused even when two requests race with it.
 */
import { and, eq, gt, lt } from "drizzle-orm";
import { renderSVG } from "uqr";

import type { Database } from "../../../lib/db/database.ts";
import { totpFactors } from "../../db/security-schema.ts";
import { ConflictError } from "../../errors/api-errors.ts";
import { SecondFactorInvalidError } from "../second-factor/second-factor-errors.ts";
import { replaceRecoveryCodes } from "./recovery-codes.ts";
import { newTotpSecret, otpauthUriOf, timeStepOfCode, TOTP_DIGITS, TOTP_PERIOD_SECONDS } from "./totp-code.ts";
import type { TotpSecretBox } from "./totp-secret-box.ts";

export const TOTP_ENROLMENT_TTL_SECONDS = 600;

type Deps = { database: Database; totpSecrets: TotpSecretBox };

/**
 * Starts (or restarts) an enrolment: a new seed, pending until confirmed.
 * @throws ConflictError TOTP_ALREADY_ENABLED (disable it first)
 */
export async function enrolTotp(deps: Deps, input: { userId: string; accountName: string }) {
  const db = deps.database.db;
  const [current] = await db.select().from(totpFactors).where(eq(totpFactors.userId, input.userId));
  if (current?.status === "confirmed") {
    throw new ConflictError("TOTP_ALREADY_ENABLED", "TOTP is enabled already; disable it first to enrol a new one");
  }
  const secret = newTotpSecret();
  const expiresAt = new Date(Date.now() + TOTP_ENROLMENT_TTL_SECONDS * 1000);
  const values = {
    secretCiphertext: deps.totpSecrets.seal(input.userId, secret),
    status: "pending",
    pendingExpiresAt: expiresAt,
    confirmedAt: null,
    lastTimeStep: 0,
  };
  await db
    .insert(totpFactors)
    .values({ userId: input.userId, ...values })
    .onConflictDoUpdate({ target: totpFactors.userId, set: values });
  const otpauthUri = otpauthUriOf(secret, input.accountName);
  return {
    secret,
    otpauthUri,
    qrSvg: renderSVG(otpauthUri, { ecc: "M" }),
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
    algorithm: "SHA1" as const,
    expiresAt,
  };
}

/**
 * Checks a code against the user's factor in `status` and consumes its time step.
 * @throws SecondFactorInvalidError wrong | reused | expired; NOT_ENROLLED handled by the caller
 */
async function acceptCode(deps: Deps, userId: string, code: string, status: "pending" | "confirmed") {
  const db = deps.database.db;
  const [factor] = await db
    .select()
    .from(totpFactors)
    .where(and(eq(totpFactors.userId, userId), eq(totpFactors.status, status)));
  if (!factor) return false;
  const result = await timeStepOfCode(deps.totpSecrets.open(userId, factor.secretCiphertext), code);
  if (result === "wrong" || result === "expired") throw new SecondFactorInvalidError(result, "totp");
  const advanced = await db
    .update(totpFactors)
    .set({ lastTimeStep: result.step })
    .where(
      and(eq(totpFactors.userId, userId), eq(totpFactors.status, status), lt(totpFactors.lastTimeStep, result.step)),
    )
    .returning({ userId: totpFactors.userId });
  if (advanced.length === 0) throw new SecondFactorInvalidError("reused", "totp");
  return true;
}

/**
 * Confirms a pending enrolment with a first code: TOTP is enabled and 10 recovery codes are issued.
 * @returns the recovery codes, shown once
 * @throws TOTP_ENROLMENT_NOT_FOUND (404: none pending, or it expired), SECOND_FACTOR_INVALID
 */
export async function confirmTotp(deps: Deps, input: { userId: string; code: string }): Promise<string[]> {
  const db = deps.database.db;
  const [pending] = await db
    .select({ expiresAt: totpFactors.pendingExpiresAt })
    .from(totpFactors)
    .where(
      and(
        eq(totpFactors.userId, input.userId),
        eq(totpFactors.status, "pending"),
        gt(totpFactors.pendingExpiresAt, new Date()),
      ),
    );
  if (!pending) {
    throw new ConflictError(
      "TOTP_ENROLMENT_NOT_FOUND",
      "No TOTP enrolment is pending (or it expired after 10 minutes): start one with POST /v1/auth/totp",
    );
  }
  await acceptCode(deps, input.userId, input.code, "pending");
  return db.transaction(async (tx) => {
    await tx
      .update(totpFactors)
      .set({ status: "confirmed", confirmedAt: new Date(), pendingExpiresAt: null })
      .where(and(eq(totpFactors.userId, input.userId), eq(totpFactors.status, "pending")));
    return replaceRecoveryCodes(tx, input.userId);
  });
}

/**
 * Checks a code of the user's enabled factor, once.
 * @returns false when the user has no enabled TOTP factor
 * @throws SecondFactorInvalidError wrong | reused | expired
 */
export const verifyTotpCode = (deps: Deps, userId: string, code: string) => acceptCode(deps, userId, code, "confirmed");
