import { StablerailError } from "../../../lib/errors/base.ts";

/** Why a second-factor answer was refused. */
export type SecondFactorRefusal = "wrong" | "reused" | "expired";

/** 422 SECOND_FACTOR_INVALID: a TOTP or recovery code that is wrong, already used or too old. */
export class SecondFactorInvalidError extends StablerailError {
  override name = "SecondFactorInvalidError";
  constructor(reason: SecondFactorRefusal, factor: "totp" | "recovery_code") {
    const what = factor === "totp" ? "code" : "recovery code";
    const message = {
      wrong: `The ${what} is wrong`,
      reused:
        factor === "totp" ? "This code was used already: wait for the next one" : "This recovery code was used already",
      expired: `The ${what} has expired: use the one your app shows now (is the device's clock right?)`,
    }[reason];
    super("SECOND_FACTOR_INVALID", message, { details: { reason, factor } });
  }
}
