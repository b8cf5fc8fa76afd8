import { AuthenticationError, PermissionError } from "../../errors/api-errors.ts";

/** 403: this request needs a fresh second factor bound to it; `details.challenge` says how to give it. */
export class StepUpRequiredError extends PermissionError {
  override name = "StepUpRequiredError";
  constructor(details: { challenge: Record<string, unknown>; action: string; canonical: unknown }) {
    super(
      "STEP_UP_REQUIRED",
      `This ${details.action.replace(/_/g, " ")} needs a second factor: approve the challenge (POST /v1/auth/step-up), then send the same request with Stablerail-Step-Up`,
      { details },
    );
  }
}

/** Why an approval was refused. */
export type ApprovalRefusal = "unknown" | "expired" | "used" | "other_request";

/** 403: the approval sent cannot be used for this request. */
export class StepUpApprovalInvalidError extends PermissionError {
  override name = "StepUpApprovalInvalidError";
  constructor(reason: ApprovalRefusal, challenge: Record<string, unknown> | null = null) {
    const why = {
      unknown: "is unknown",
      expired: "has expired (approvals live 5 minutes)",
      used: "was used already",
      other_request: "was given for another request (another amount, recipient, key or action)",
    }[reason];
    super("STEP_UP_APPROVAL_INVALID", `The step-up approval ${why}: approve this request afresh`, {
      details: { reason, ...(challenge ? { challenge } : {}) },
    });
  }
}

/** 401: the challenge to approve is unknown, expired, already approved, or out of attempts. */
export class ChallengeInvalidError extends AuthenticationError {
  override name = "ChallengeInvalidError";
  constructor() {
    super(
      "CHALLENGE_INVALID",
      "The step-up challenge is unknown, expired, already approved or out of attempts: send the request again for a new one",
    );
  }
}
