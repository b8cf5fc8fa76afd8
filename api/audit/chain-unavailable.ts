/**
 * The auditor's reads trust only the node: when it does not answer, an audit route says so with
 * 503 CHAIN_UNAVAILABLE (retryable) instead of a 500 — the audit is not wrong, it could not be made.
 * A node that answered with an error (a revert, a block it does not have) is not this: it stays what
 * the auditor made of it.
 */
import { BaseError, HttpRequestError, TimeoutError, WebSocketRequestError } from "viem";

import { UnavailableError } from "../../lib/errors/base.ts";

/** Whether viem failed to reach the node at all (connection refused, reset, timed out). */
export function isUnreachable(error: unknown): boolean {
  if (!(error instanceof BaseError)) return false;
  return (
    error.walk(
      (e) =>
        (e instanceof HttpRequestError && (e.status === undefined || e.status >= 500)) ||
        e instanceof TimeoutError ||
        e instanceof WebSocketRequestError,
    ) !== null
  );
}

/**
 * Runs one audit, turning "the node did not answer" into UnavailableError CHAIN_UNAVAILABLE.
 * @param run - the audit to make
 * @returns what it returns
 * @throws UnavailableError CHAIN_UNAVAILABLE when the JSON-RPC node cannot be reached
 */
export async function withChain<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (isUnreachable(error))
      throw new UnavailableError("CHAIN_UNAVAILABLE", "The chain's JSON-RPC node does not answer; retry later", {
        cause: error,
      });
    throw error;
  }
}
