/**
 * RFC 6238 codes as this API accepts them: SHA-1, 6 digits, 30-second steps, one step of clock skew
 * either way. Pure (otplib); which step was used last, and so replay, is the caller's (totp-factor.ts).
 */
import { generateSecret, generateURI, verify } from "otplib";

export const TOTP_PERIOD_SECONDS = 30 as const;
export const TOTP_DIGITS = 6 as const;
export const TOTP_ISSUER = "Stablerail";
/** How far back a code is still told apart as `expired` rather than `wrong` (10 minutes). */
const EXPIRED_LOOKBACK_SECONDS = 600;

/** A new 160-bit seed, base32. */
export const newTotpSecret = () => generateSecret({ length: 20 });

/** The otpauth:// URI an authenticator app scans. */
export const otpauthUriOf = (secret: string, accountName: string) =>
  generateURI({ issuer: TOTP_ISSUER, label: accountName, secret, digits: TOTP_DIGITS, period: TOTP_PERIOD_SECONDS });

/**
 * Which time step a code belongs to, within the skew window of `now`.
 * @returns `{ step }` for a valid code, `expired` for a code of an earlier step outside the window, or `wrong`
 */
export async function timeStepOfCode(
  secret: string,
  code: string,
  now: Date = new Date(),
): Promise<{ step: number } | "expired" | "wrong"> {
  const epoch = Math.floor(now.getTime() / 1000);
  const base = { secret, token: code, epoch, period: TOTP_PERIOD_SECONDS, digits: TOTP_DIGITS } as const;
  const valid = await verify({ ...base, epochTolerance: TOTP_PERIOD_SECONDS });
  if (valid.valid) return { step: Math.floor(epoch / TOTP_PERIOD_SECONDS) + valid.delta };
  const late = await verify({ ...base, epochTolerance: [EXPIRED_LOOKBACK_SECONDS, 0] });
  return late.valid ? "expired" : "wrong";
}
