/**
 * The money door's side of step-up (docs/design/auth.md): when the rules want a second factor for
 * a movement, the movement's canonical digest is what an approval must name. Verifying and
 * consuming the approval is the auth module's job; it plugs in as {@link StepUpApprovals}
 * (AppDependencies.stepUpApprovals). Without it, or without an approval on the request, a step_up
 * decision answers STEP_UP_REQUIRED — or SECOND_FACTOR_NOT_ENROLLED when the user has no factor
 * to give one with — and nothing is recorded, so the same request may be sent again.
 */
import { and, eq } from "drizzle-orm";

import type { Database } from "../../lib/db/database.ts";
import { totpFactors, webauthnCredentials } from "../db/security-schema.ts";
import type { CanonicalMovement } from "./movement-digest.ts";
import { SecondFactorNotEnrolledError, StepUpRequiredError } from "./risk-errors.ts";
import type { RiskReason } from "./rules.ts";

/** What the auth module provides for movement approvals. */
export type StepUpApprovals = {
  /**
   * Consumes the approval `token` if it was given to `userId` for exactly `digest`.
   * @throws STEP_UP_APPROVAL_INVALID (unknown, expired, used, other_request)
   */
  consume: (p: {
    userId: string;
    digest: string;
    token: string;
    /** With it, a refusal carries a fresh challenge for this movement. */
    canonical?: CanonicalMovement | undefined;
  }) => Promise<{ challengeId: string; factor: string; approvedAt: Date }>;
  /** Opens a challenge bound to `digest` (its id, factors, passkey options) for the STEP_UP_REQUIRED answer. */
  challenge: (p: {
    userId: string;
    canonical: CanonicalMovement;
    digest: string;
    reasons: RiskReason[];
  }) => Promise<Record<string, unknown>>;
};

/** Whether the user has a confirmed TOTP factor or a passkey. */
export async function hasSecondFactor(database: Database, userId: string): Promise<boolean> {
  const [totp] = await database.db
    .select({ userId: totpFactors.userId })
    .from(totpFactors)
    .where(and(eq(totpFactors.userId, userId), eq(totpFactors.status, "confirmed")));
  if (totp) return true;
  const [passkey] = await database.db
    .select({ id: webauthnCredentials.id })
    .from(webauthnCredentials)
    .where(eq(webauthnCredentials.userId, userId))
    .limit(1);
  return passkey !== undefined;
}

/**
 * Settles a step_up decision: the approval consumed (returned for the risk record), or the refusal.
 * @throws SECOND_FACTOR_NOT_ENROLLED, STEP_UP_REQUIRED, the auth module's STEP_UP_APPROVAL_INVALID
 */
export async function requireStepUp(
  deps: { database: Database; approvals: StepUpApprovals | undefined },
  p: { userId: string; canonical: CanonicalMovement; digest: string; reasons: RiskReason[]; token: string | undefined },
): Promise<{ challengeId: string; factor: string; approvedAt: string }> {
  if (!(await hasSecondFactor(deps.database, p.userId))) throw new SecondFactorNotEnrolledError(p.reasons);
  if (deps.approvals && p.token) {
    const approved = await deps.approvals.consume({
      userId: p.userId,
      digest: p.digest,
      token: p.token,
      canonical: p.canonical,
    });
    return { ...approved, approvedAt: approved.approvedAt.toISOString() };
  }
  const challenge = deps.approvals
    ? await deps.approvals.challenge({ userId: p.userId, canonical: p.canonical, digest: p.digest, reasons: p.reasons })
    : null;
  throw new StepUpRequiredError({ reasons: p.reasons, movement: p.canonical, digest: p.digest, challenge });
}
