/**
 * What the rest of the API uses of authentication beyond the request's principal: step-up approvals
 * bound to one movement (the money door's step_up decision consumes them here) and the canonical
 * digest they are bound to. Named re-exports only.
 */
export { canonicalJson, digestOf } from "./step-up/canonical-digest.ts";
export { createStepUpApprovals, type MovementStepUpApprovals } from "./step-up/movement-approvals.ts";
export { consumeStepUpApproval, openStepUpChallenge, STEP_UP_TTL_SECONDS } from "./step-up/step-up-challenges.ts";
export { STEP_UP_HEADER } from "./step-up/require-security-step-up.ts";
export { StepUpApprovalInvalidError } from "./step-up/step-up-errors.ts";
export { enrolledFactors } from "./factors.ts";
