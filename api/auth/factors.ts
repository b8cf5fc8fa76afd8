import { and, count, eq, isNull } from "drizzle-orm";

import type { Database } from "../../lib/db/database.ts";
import { recoveryCodes, totpFactors, webauthnCredentials } from "../db/security-schema.ts";

/** A second factor a user can answer with. */
export type FactorName = "totp" | "passkey" | "recovery_code";

/** What a user has enrolled: a confirmed TOTP factor, passkeys, unused recovery codes. */
export type EnrolledFactors = {
  totp: boolean;
  passkeys: number;
  recoveryCodesRemaining: number;
  /** The factors a sign-in or step-up may be answered with, in the order a client should offer them. */
  names: FactorName[];
};

/**
 * Reads a user's second factors. Recovery codes count only beside a factor they recover (they exist
 * only once TOTP was confirmed, and go when it is disabled).
 */
export async function enrolledFactors(database: Database, userId: string): Promise<EnrolledFactors> {
  const db = database.db;
  const [[totp], [passkeys], [codes]] = await Promise.all([
    db
      .select({ status: totpFactors.status })
      .from(totpFactors)
      .where(and(eq(totpFactors.userId, userId), eq(totpFactors.status, "confirmed"))),
    db.select({ n: count() }).from(webauthnCredentials).where(eq(webauthnCredentials.userId, userId)),
    db
      .select({ n: count() })
      .from(recoveryCodes)
      .where(and(eq(recoveryCodes.userId, userId), isNull(recoveryCodes.usedAt))),
  ]);
  const hasTotp = totp !== undefined;
  const passkeyCount = passkeys?.n ?? 0;
  const remaining = codes?.n ?? 0;
  const names: FactorName[] = [];
  if (hasTotp) names.push("totp");
  if (passkeyCount > 0) names.push("passkey");
  if (remaining > 0 && names.length > 0) names.push("recovery_code");
  return { totp: hasTotp, passkeys: passkeyCount, recoveryCodesRemaining: remaining, names };
}
