import type { AppServices } from "../../dependencies.ts";
import {
  consumeStepUpApproval,
  openStepUpChallenge,
  type PasskeyRequestOptions,
  type StepUpChallengeView,
} from "./step-up-challenges.ts";
import { StepUpApprovalInvalidError } from "./step-up-errors.ts";

/**
 * The money door's handle on step-up (AppDependencies.stepUpApprovals, wired by the risk engine's
 * step_up decision): open a challenge bound to a movement's digest, and consume an approval for
 * exactly that digest. The digest is computed by the door from the canonical movement; this side
 * only compares it, so the two halves never disagree on what a movement is.
 */
export type MovementStepUpApprovals = {
  /**
   * Consumes the approval `token` given to `userId` for exactly `digest`. With `canonical`, a refusal
   * carries a fresh challenge for this movement in `details.challenge`.
   * @throws STEP_UP_APPROVAL_INVALID (403) unknown | expired | used | other_request
   */
  consume: (p: {
    userId: string;
    digest: string;
    token: string;
    canonical?: unknown;
  }) => Promise<{ challengeId: string; factor: string; approvedAt: Date }>;
  /** Opens a challenge bound to `digest`, for the STEP_UP_REQUIRED answer's `details.challenge`. */
  challenge: (p: {
    userId: string;
    canonical: unknown;
    digest: string;
    reasons: unknown[];
  }) => Promise<StepUpChallengeView & Record<string, unknown>>;
};

/**
 * Builds the movement approvals over the API's services.
 * @example
 * const approvals = createStepUpApprovals(app.services);
 * await approvals.consume({ userId, digest: movementDigest(canonical), token: request.headers["stablerail-step-up"] });
 */
export function createStepUpApprovals(
  services: Pick<AppServices, "database" | "redis" | "redisPrefix" | "settings" | "totpSecretKey"> & {
    passkeyRequestOptions?: PasskeyRequestOptions | undefined;
  },
): MovementStepUpApprovals {
  const challenge: MovementStepUpApprovals["challenge"] = async (p) =>
    (await openStepUpChallenge(services, { ...p, purpose: "movement" })) as StepUpChallengeView &
      Record<string, unknown>;
  return {
    challenge,
    consume: async (p) => {
      try {
        return await consumeStepUpApproval(services, p);
      } catch (error) {
        if (error instanceof StepUpApprovalInvalidError && p.canonical !== undefined) {
          const fresh = await challenge({ userId: p.userId, canonical: p.canonical, digest: p.digest, reasons: [] });
          throw new StepUpApprovalInvalidError((error.details as { reason: "unknown" }).reason, fresh);
        }
        throw error;
      }
    },
  };
}
