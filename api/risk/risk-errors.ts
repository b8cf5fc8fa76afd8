/**
 * The refusals the risk engine gives the caller (their HTTP statuses come from their classes, or
 * api/plugins/errors.ts by code). Each names what to do next.
 */
import { StablerailError } from "../../lib/errors/base.ts";
import { ConflictError, PermissionError } from "../errors/api-errors.ts";
import type { CanonicalMovement } from "./movement-digest.ts";
import type { RiskReason } from "./rules.ts";

/** 403: the rules refused the movement; it is recorded as `denied` and nothing was signed or queued. */
export class MovementDeniedError extends PermissionError {
  override name = "MovementDeniedError";
  constructor(movementId: string, reasons: RiskReason[]) {
    super("MOVEMENT_DENIED", `This movement is refused: ${reasons.map((r) => r.message).join("; ")}`, {
      details: { movementId, reasons },
    });
  }
}

/**
 * 403: the rules want a fresh second factor for this very movement. Not recorded: the same request
 * (same Idempotency-Key) is sent again with the approval.
 */
export class StepUpRequiredError extends PermissionError {
  override name = "StepUpRequiredError";
  constructor(p: {
    reasons: RiskReason[];
    movement: CanonicalMovement;
    digest: string;
    challenge: Record<string, unknown> | null;
  }) {
    super(
      "STEP_UP_REQUIRED",
      "This movement needs a second factor: approve it, then send the same request with Stablerail-Step-Up",
      { details: { reasons: p.reasons, challenge: p.challenge, digest: p.digest, movement: p.movement } },
    );
  }
}

/** 403: a step-up is wanted and the user has no second factor to give it with. */
export class SecondFactorNotEnrolledError extends PermissionError {
  override name = "SecondFactorNotEnrolledError";
  constructor(reasons: RiskReason[]) {
    super(
      "SECOND_FACTOR_NOT_ENROLLED",
      "This movement needs a second factor and none is enrolled: enrol TOTP or a passkey first",
      { details: { reasons } },
    );
  }
}

/** 422: above the travel-rule threshold to an address outside the platform, without originator/beneficiary data. */
export class TravelRuleRequiredError extends StablerailError {
  override name = "TravelRuleRequiredError";
  constructor(threshold: bigint) {
    super(
      "TRAVEL_RULE_REQUIRED",
      `Transfers above ${threshold} base units to an address outside the platform need travelRule (originator and beneficiary)`,
      { details: { threshold: threshold.toString() } },
    );
  }
}

/** 409: the review was decided already (by another operator, or a concurrent click). */
export class ReviewAlreadyDecidedError extends ConflictError {
  override name = "ReviewAlreadyDecidedError";
  constructor(reviewId: string, status: string) {
    super("REVIEW_ALREADY_DECIDED", `Review ${reviewId} is already ${status}`, { details: { reviewId, status } });
  }
}

/** 409: the held authorization expired before approval; the user must send the movement again. */
export class ReviewExpiredError extends ConflictError {
  override name = "ReviewExpiredError";
  constructor(reviewId: string, expiresAt: Date) {
    super("REVIEW_EXPIRED", `Review ${reviewId}'s signed authorization expired at ${expiresAt.toISOString()}`, {
      details: { reviewId, expiresAt: expiresAt.toISOString() },
    });
  }
}

/** 403: operators may not decide on their own movements. */
export class ReviewOwnMovementError extends PermissionError {
  override name = "ReviewOwnMovementError";
  constructor() {
    super("REVIEW_OWN_MOVEMENT", "An operator cannot decide a review of their own movement; another operator must");
  }
}
