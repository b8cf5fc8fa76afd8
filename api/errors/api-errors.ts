import { StablerailError, type StablerailErrorOptions } from "../../lib/errors/base.ts";

/** Errors only the HTTP side raises. Their HTTP statuses are mapped in api/plugins/errors.ts, nowhere else. */
type Options = Omit<StablerailErrorOptions, "retryable">;

/** No credential, or one that is unknown, revoked or expired. */
export class AuthenticationError extends StablerailError {
  override name = "AuthenticationError";
  constructor(code: string, shortMessage: string, options: Options = {}) {
    super(code, shortMessage, options);
  }
}

/** The caller is known but may not do this. */
export class PermissionError extends StablerailError {
  override name = "PermissionError";
  constructor(code: string, shortMessage: string, options: Options = {}) {
    super(code, shortMessage, options);
  }
}

/** The request conflicts with the current state (a key in flight, a duplicate). */
export class ConflictError extends StablerailError {
  override name = "ConflictError";
  constructor(code: string, shortMessage: string, options: Options = {}) {
    super(code, shortMessage, options);
  }
}
