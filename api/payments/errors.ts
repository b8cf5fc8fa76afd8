import { NotFoundError, ValidationError } from "../../lib/errors/base.ts";
import { ConflictError } from "../errors/api-errors.ts";

/**
 * The merchant domain's errors, each with a stable code. Their HTTP statuses come from their
 * class (api/plugins/errors.ts): not found 404, conflict with the payment's state 409, bad input 400.
 */

/** No such payment request, or one the caller may not see (another merchant's). */
export class PaymentRequestNotFoundError extends NotFoundError {
  override name = "PaymentRequestNotFoundError";
  constructor() {
    super("PAYMENT_REQUEST_NOT_FOUND", "No such payment request");
  }
}

/** The payment request or its escrow payment is not in a state that allows this action. */
export class PaymentStateError extends ConflictError {
  override name = "PaymentStateError";
}

/** A capture larger than what the payment still holds (pending captures counted). */
export class CaptureExceedsHeldError extends ConflictError {
  override name = "CaptureExceedsHeldError";
  constructor(held: bigint, amount: bigint) {
    super(
      "CAPTURE_EXCEEDS_HELD",
      `The payment holds ${held} (pending captures deducted); ${amount} cannot be captured`,
      {
        details: { held: held.toString(), amount: amount.toString() },
      },
    );
  }
}

/** A refund larger than captured − refunded (pending refunds counted). */
export class RefundExceedsCapturedError extends ConflictError {
  override name = "RefundExceedsCapturedError";
  constructor(refundable: bigint, amount: bigint) {
    super("REFUND_EXCEEDS_CAPTURED", `At most ${refundable} can still be refunded; ${amount} asked`, {
      details: { refundable: refundable.toString(), amount: amount.toString() },
    });
  }
}

/** The wallet named cannot be used for this (not the caller's, wrong kind). */
export class PaymentWalletError extends ValidationError {
  override name = "PaymentWalletError";
}
