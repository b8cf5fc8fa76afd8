/**
 * Step-up challenges and approvals (docs/design/auth.md, "Step-up"). A challenge names the digest of
 * one canonical movement or security action; a second factor approves it (TOTP, a recovery code, or
 * a passkey whose WebAuthn challenge is derived from the digest); the approval token is then consumed
 * once, by a request with exactly that digest, within 5 minutes.
 *
 * Invariant: an approval is consumed only by the conditional UPDATE that matches its token, user
 * and digest and finds it unconsumed and unexpired — so it moves one request, once, and never
 * another amount, recipient, key or action, even when two requests race with it.
 */
import { randomBytes, randomUUID } from "node:crypto";

import { and, eq, gt, isNull, sql } from "drizzle-orm";

import { stepUpChallenges } from "../../db/security-schema.ts";
import type { AppServices } from "../../dependencies.ts";
import { hashCredential } from "../credentials.ts";
import { enrolledFactors } from "../factors.ts";
import {
  verifySecondFactor,
  type PasskeyAssertionCheck,
  type SecondFactorAnswer,
} from "../second-factor/verify-second-factor.ts";
import { SecondFactorInvalidError } from "../second-factor/second-factor-errors.ts";
import { passkeyAssertionOptions } from "../passkeys/passkey-credentials.ts";
import { stepUpPasskeyChallenge } from "./canonical-digest.ts";
import { ChallengeInvalidError, StepUpApprovalInvalidError } from "./step-up-errors.ts";

/** A challenge, and the approval it becomes, live 5 minutes each. */
export const STEP_UP_TTL_SECONDS = 300;
const MAX_WRONG_ANSWERS = 5;

type Services = Pick<AppServices, "database" | "redis" | "redisPrefix" | "settings" | "totpSecretKey">;

/** Builds passkey request options for a user and a given challenge (api/auth/passkeys), or null without passkeys. */
export type PasskeyRequestOptions = (p: {
  userId: string;
  challenge: string;
}) => Promise<Record<string, unknown> | null>;

/** The challenge as the STEP_UP_REQUIRED answer shows it. */
export type StepUpChallengeView = {
  id: string;
  purpose: "movement" | "security";
  digest: string;
  expiresAt: string;
  factors: string[];
  passkey: { options: Record<string, unknown> } | null;
};

/**
 * Opens a challenge bound to `digest` for `userId`.
 * @returns the view to put in `details.challenge`
 */
export async function openStepUpChallenge(
  services: Services & { passkeyRequestOptions?: PasskeyRequestOptions | undefined },
  p: { userId: string; purpose: "movement" | "security"; canonical: unknown; digest: string; reasons?: unknown[] },
): Promise<StepUpChallengeView> {
  const id = randomUUID();
  const nonce = randomBytes(16).toString("hex");
  const expiresAt = new Date(Date.now() + STEP_UP_TTL_SECONDS * 1000);
  await services.database.db.insert(stepUpChallenges).values({
    id,
    userId: p.userId,
    purpose: p.purpose,
    digest: p.digest,
    canonical: p.canonical,
    nonce,
    reasons: p.reasons ?? [],
    expiresAt,
  });
  const factors = await enrolledFactors(services.database, p.userId);
  const challenge = stepUpPasskeyChallenge(p.digest, nonce);
  const options =
    factors.passkeys > 0
      ? ((await (services.passkeyRequestOptions?.({ userId: p.userId, challenge }) ??
          passkeyAssertionOptions(services, { userId: p.userId, challenge }))) as Record<string, unknown>)
      : null;
  return {
    id,
    purpose: p.purpose,
    digest: p.digest,
    expiresAt: expiresAt.toISOString(),
    factors: factors.names,
    passkey: options ? { options } : null,
  };
}

/** An approval, as POST /v1/auth/step-up answers it (the token shown once). */
export type StepUpApproval = {
  token: string;
  challengeId: string;
  digest: string;
  purpose: string;
  factor: string;
  expiresAt: Date;
};

/**
 * Approves a challenge of `userId` with one second factor.
 * @throws CHALLENGE_INVALID (401), SECOND_FACTOR_INVALID (422), PASSKEY_INVALID, TOO_MANY_ATTEMPTS (429)
 */
export async function approveStepUpChallenge(
  services: Services,
  p: {
    userId: string;
    challengeId: string;
    answer: SecondFactorAnswer;
    ip: string;
    checkPasskey?: PasskeyAssertionCheck;
  },
): Promise<StepUpApproval> {
  const db = services.database.db;
  const live = and(
    eq(stepUpChallenges.id, p.challengeId),
    eq(stepUpChallenges.userId, p.userId),
    isNull(stepUpChallenges.approvedAt),
    gt(stepUpChallenges.expiresAt, new Date()),
    sql`${stepUpChallenges.attempts} < ${MAX_WRONG_ANSWERS}`,
  );
  const [challenge] = await db.select().from(stepUpChallenges).where(live);
  if (!challenge) throw new ChallengeInvalidError();
  let verified;
  try {
    verified = await verifySecondFactor(services, {
      userId: p.userId,
      answer: p.answer,
      ip: p.ip,
      passkeyChallenge: stepUpPasskeyChallenge(challenge.digest, challenge.nonce),
      checkPasskey: p.checkPasskey,
    });
  } catch (error) {
    if (error instanceof SecondFactorInvalidError || (error as { code?: string }).code === "PASSKEY_INVALID") {
      await db
        .update(stepUpChallenges)
        .set({ attempts: sql`${stepUpChallenges.attempts} + 1` })
        .where(eq(stepUpChallenges.id, challenge.id));
    }
    throw error;
  }
  const token = `sr_stepup_${randomBytes(32).toString("base64url")}`;
  const expiresAt = new Date(Date.now() + STEP_UP_TTL_SECONDS * 1000);
  const approved = await db
    .update(stepUpChallenges)
    .set({
      approvedAt: new Date(),
      factor: verified.factor,
      approvalTokenHash: hashCredential(token),
      approvalExpiresAt: expiresAt,
    })
    .where(live)
    .returning({ id: stepUpChallenges.id });
  // Two right answers at once: only one approval.
  if (approved.length === 0) throw new ChallengeInvalidError();
  return {
    token,
    challengeId: challenge.id,
    digest: challenge.digest,
    purpose: challenge.purpose,
    factor: verified.factor,
    expiresAt,
  };
}

/**
 * Consumes an approval for exactly `digest` — the function the money door calls (through
 * api/auth/index.ts) before it signs a stepped-up movement.
 * @returns the challenge it approved, the factor, and when
 * @throws StepUpApprovalInvalidError (403 STEP_UP_APPROVAL_INVALID) unknown | expired | used | other_request
 */
export async function consumeStepUpApproval(
  services: Pick<AppServices, "database">,
  p: { userId: string; digest: string; token: string },
): Promise<{ challengeId: string; factor: string; approvedAt: Date }> {
  const db = services.database.db;
  const tokenHash = hashCredential(p.token);
  const [consumed] = await db
    .update(stepUpChallenges)
    .set({ consumedAt: new Date() })
    .where(
      and(
        eq(stepUpChallenges.approvalTokenHash, tokenHash),
        eq(stepUpChallenges.userId, p.userId),
        eq(stepUpChallenges.digest, p.digest),
        isNull(stepUpChallenges.consumedAt),
        gt(stepUpChallenges.approvalExpiresAt, new Date()),
      ),
    )
    .returning({ id: stepUpChallenges.id, factor: stepUpChallenges.factor, approvedAt: stepUpChallenges.approvedAt });
  if (consumed) return { challengeId: consumed.id, factor: consumed.factor!, approvedAt: consumed.approvedAt! };
  const [row] = await db.select().from(stepUpChallenges).where(eq(stepUpChallenges.approvalTokenHash, tokenHash));
  // Another user's approval is "unknown" to this one: nothing about it is told.
  if (!row || row.userId !== p.userId) throw new StepUpApprovalInvalidError("unknown");
  if (row.consumedAt) throw new StepUpApprovalInvalidError("used");
  if (row.digest !== p.digest) throw new StepUpApprovalInvalidError("other_request");
  throw new StepUpApprovalInvalidError("expired");
}
