import type { AppServices } from "../../dependencies.ts";
import { completeSignIn, type SignedIn } from "../passwords/sign-in.ts";
import type { RequestOrigin } from "../request-origin.ts";
import { consumeSignInTicket, countWrongAnswer, readSignInTicket } from "../sign-in-ticket.ts";
import { SecondFactorInvalidError } from "./second-factor-errors.ts";
import { verifySecondFactor, type PasskeyAssertionCheck, type SecondFactorAnswer } from "./verify-second-factor.ts";

type Services = Pick<AppServices, "database" | "redis" | "redisPrefix" | "settings" | "totpSecretKey">;

/**
 * The sign-in's second step: the ticket a correct password earned, and one second-factor answer.
 * A wrong answer costs the ticket one of its 5 tries (and counts for the lockout); a right one uses
 * the ticket up and opens the session.
 * @throws SIGN_IN_TICKET_INVALID, SECOND_FACTOR_INVALID, PASSKEY_INVALID, TOO_MANY_ATTEMPTS, ACCOUNT_FROZEN
 */
export async function signInSecondFactor(
  services: Services,
  input: { ticket: string; answer: SecondFactorAnswer; origin: RequestOrigin; checkPasskey?: PasskeyAssertionCheck },
): Promise<SignedIn> {
  const state = await readSignInTicket(services, input.ticket);
  try {
    await verifySecondFactor(services, {
      userId: state.userId,
      answer: input.answer,
      ip: input.origin.ip,
      passkeyChallenge: state.passkeyChallenge,
      checkPasskey: input.checkPasskey,
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (error instanceof SecondFactorInvalidError || code === "PASSKEY_INVALID") {
      await countWrongAnswer(services, input.ticket);
    }
    throw error;
  }
  await consumeSignInTicket(services, input.ticket);
  return completeSignIn(services, {
    userId: state.userId,
    method: "password",
    origin: input.origin,
    deviceHash: state.deviceHash,
  });
}
