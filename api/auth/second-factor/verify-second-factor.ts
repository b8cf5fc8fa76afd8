/**
 * The one check of a second-factor answer — a TOTP code, a recovery code or a passkey assertion —
 * used by the sign-in's second step and by step-up approvals. Every answer is counted by the lockout
 * (api/auth/lockout) for the account and the address before it is checked.
 */
import { ValidationError } from "../../../lib/errors/base.ts";
import type { AppServices } from "../../dependencies.ts";
import type { FactorName } from "../factors.ts";
import { reserveAttempt } from "../lockout/auth-lockout.ts";
import { verifyPasskeyAssertion } from "../passkeys/passkey-credentials.ts";
import { consumeRecoveryCode } from "../totp/recovery-codes.ts";
import { totpSecretBox } from "../totp/totp-secret-box.ts";
import { verifyTotpCode } from "../totp/totp-factor.ts";
import { SecondFactorInvalidError } from "./second-factor-errors.ts";

/** One of these, exactly (docs/design/auth.md). */
export type SecondFactorAnswer = {
  totp?: { code: string } | undefined;
  recoveryCode?: string | undefined;
  passkey?: { response: unknown } | undefined;
};

/**
 * Verifies a passkey assertion of `userId` against the challenge the server issued; supplied by
 * api/auth/passkeys. @throws PASSKEY_INVALID
 */
export type PasskeyAssertionCheck = (p: {
  userId: string;
  response: unknown;
  expectedChallenge: string;
}) => Promise<{ credentialId: string }>;

type Services = Pick<AppServices, "database" | "redis" | "redisPrefix" | "settings" | "totpSecretKey">;

/**
 * Checks one answer of `userId`.
 * @returns the factor that passed (and the passkey's credential id)
 * @throws SECOND_FACTOR_ANSWER_INVALID (400: none or several), SECOND_FACTOR_INVALID (422),
 *   PASSKEY_INVALID (401), TOO_MANY_ATTEMPTS (429)
 */
export async function verifySecondFactor(
  services: Services,
  input: {
    userId: string;
    answer: SecondFactorAnswer;
    ip: string;
    /** The WebAuthn challenge issued for this sign-in or step-up (null: none was, passkeys refused). */
    passkeyChallenge: string | null;
    checkPasskey?: PasskeyAssertionCheck | undefined;
  },
): Promise<{ factor: FactorName; credentialId?: string }> {
  const { answer, userId } = input;
  const given = [answer.totp, answer.recoveryCode, answer.passkey].filter((a) => a !== undefined);
  if (given.length !== 1) {
    throw new ValidationError(
      "SECOND_FACTOR_ANSWER_INVALID",
      "Send exactly one of totp: { code }, recoveryCode or passkey: { response }",
    );
  }
  const attempt = await reserveAttempt(services, { account: userId, ip: input.ip });
  let result: { factor: FactorName; credentialId?: string };
  if (answer.totp) {
    const enrolled = await verifyTotpCode(
      { database: services.database, totpSecrets: totpSecretBox(services.totpSecretKey) },
      userId,
      answer.totp.code,
    );
    if (!enrolled) throw new SecondFactorInvalidError("wrong", "totp");
    result = { factor: "totp" };
  } else if (answer.recoveryCode !== undefined) {
    const outcome = await consumeRecoveryCode(services.database, userId, answer.recoveryCode);
    if (outcome !== "ok") throw new SecondFactorInvalidError(outcome, "recovery_code");
    result = { factor: "recovery_code" };
  } else {
    if (!input.passkeyChallenge) {
      throw new ValidationError("PASSKEY_NOT_OFFERED", "No passkey challenge was issued for this; use another factor");
    }
    const check: PasskeyAssertionCheck =
      input.checkPasskey ??
      ((p) =>
        verifyPasskeyAssertion(services, { ...p, userId: p.userId }).then(({ credentialId: id }) => ({
          credentialId: id,
        })));
    const { credentialId } = await check({
      userId,
      response: answer.passkey!.response,
      expectedChallenge: input.passkeyChallenge,
    });
    result = { factor: "passkey", credentialId };
  }
  await attempt.succeeded();
  return result;
}
