/**
 * One error hierarchy for every Stablerail process (after viem's `BaseError` and Ponder's
 * retryable/non-retryable split). Each subclass has a stable `code` that callers and the HTTP
 * layer switch on; `shortMessage` says what went wrong and, where possible, what to do.
 */
export type StablerailErrorOptions = {
  cause?: unknown;
  details?: Record<string, unknown>;
  /** Whether repeating the same operation may succeed (network blips, lock contention). */
  retryable?: boolean;
};

export class StablerailError extends Error {
  override name = "StablerailError";
  readonly code: string;
  readonly shortMessage: string;
  readonly details: Record<string, unknown> | undefined;
  readonly retryable: boolean;

  constructor(code: string, shortMessage: string, options: StablerailErrorOptions = {}) {
    super(shortMessage, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.shortMessage = shortMessage;
    this.details = options.details;
    this.retryable = options.retryable ?? false;
  }
}

/** A value or a request is malformed or violates a rule; repeating it cannot succeed. */
export class ValidationError extends StablerailError {
  override name = "ValidationError";
  constructor(code: string, shortMessage: string, options: Omit<StablerailErrorOptions, "retryable"> = {}) {
    super(code, shortMessage, { ...options, retryable: false });
  }
}

/** The thing asked for does not exist (or the caller may not know it exists). */
export class NotFoundError extends StablerailError {
  override name = "NotFoundError";
  constructor(code: string, shortMessage: string, options: Omit<StablerailErrorOptions, "retryable"> = {}) {
    super(code, shortMessage, { ...options, retryable: false });
  }
}

/** A dependency (chain node, Redis, database) did not answer; trying later may work. */
export class UnavailableError extends StablerailError {
  override name = "UnavailableError";
  constructor(code: string, shortMessage: string, options: Omit<StablerailErrorOptions, "retryable"> = {}) {
    super(code, shortMessage, { ...options, retryable: true });
  }
}

/**
 * Narrows an unknown thrown value to a `StablerailError`.
 * @param error - anything caught
 * @returns whether it belongs to the hierarchy
 */
export function isStablerailError(error: unknown): error is StablerailError {
  return error instanceof StablerailError;
}
