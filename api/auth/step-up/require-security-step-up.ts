import type { AppServices } from "../../dependencies.ts";
import { enrolledFactors } from "../factors.ts";
import { canonicalSecurityAction, digestOf, type SecurityAction } from "./canonical-digest.ts";
import { consumeStepUpApproval, openStepUpChallenge, type PasskeyRequestOptions } from "./step-up-challenges.ts";
import { StepUpApprovalInvalidError, StepUpRequiredError } from "./step-up-errors.ts";

/** The header a request carries its step-up approval token in. */
export const STEP_UP_HEADER = "stablerail-step-up";

type Services = Pick<AppServices, "database" | "redis" | "redisPrefix" | "settings" | "totpSecretKey"> & {
  passkeyRequestOptions?: PasskeyRequestOptions | undefined;
};

/**
 * Requires a fresh second factor for a security action of a user who has one: the approval in
 * `token` is consumed for this action's digest, or the request is refused with a challenge for it.
 * @returns "approved", or "not_enrolled" when the user has no factor to step up with (the caller decides)
 * @throws STEP_UP_REQUIRED (403, with `details.challenge`), STEP_UP_APPROVAL_INVALID (403, with a fresh challenge)
 */
export async function requireSecurityStepUp(
  services: Services,
  p: { userId: string; action: SecurityAction; target: string | null; token: string | undefined },
): Promise<"approved" | "not_enrolled"> {
  const factors = await enrolledFactors(services.database, p.userId);
  if (factors.names.length === 0) return "not_enrolled";
  const canonical = canonicalSecurityAction(p);
  const digest = digestOf(canonical);
  const challenge = () =>
    openStepUpChallenge(services, { userId: p.userId, purpose: "security", canonical, digest, reasons: [] });
  if (!p.token) throw new StepUpRequiredError({ challenge: await challenge(), action: p.action, canonical });
  try {
    await consumeStepUpApproval(services, { userId: p.userId, digest, token: p.token });
    return "approved";
  } catch (error) {
    if (error instanceof StepUpApprovalInvalidError) {
      throw new StepUpApprovalInvalidError(
        (error.details as { reason: "unknown" }).reason,
        (await challenge()) as unknown as Record<string, unknown>,
      );
    }
    throw error;
  }
}
