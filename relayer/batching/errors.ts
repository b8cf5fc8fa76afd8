import type { Hex } from "viem";

import { StablerailError } from "../../lib/errors/base.ts";

/**
 * A relay was taken out of a settlement batch whose transaction did not settle it — the whole
 * transaction reverted, the batch reported the item failed without revert data (its call ran out
 * of the per-item gas limit), or the batch ran short of gas and skipped it (AuthorizationsSkipped)
 * — while its authorisation is still unused on chain. Retryable: BullMQ retries the relay, and a
 * retried transfer is sent alone.
 */
export class RelayReleasedFromBatchError extends StablerailError {
  override name = "RelayReleasedFromBatchError";
  constructor(relayId: string, transactionHash: Hex, why: string) {
    super(
      "RELAY_RELEASED_FROM_BATCH",
      `Relay ${relayId} was not settled by batch transaction ${transactionHash} (${why}); its authorisation is unused on chain, so it is retried alone`,
      { retryable: true, details: { relayId, transactionHash, why } },
    );
  }
}

/**
 * The relay's batch did not settle it, and meanwhile its EIP-3009 authorisation was used (or
 * cancelled) on chain by another transaction. It is not sent again: it could only revert.
 */
export class RelayAuthorizationUsedError extends StablerailError {
  override name = "RelayAuthorizationUsedError";
  constructor(from: string, nonce: Hex, transactionHash: Hex) {
    super(
      "RELAY_AUTHORIZATION_USED",
      `Batch transaction ${transactionHash} did not settle this transfer, and authorisation ${nonce} of ${from} is now used on chain by another transaction; it is not sent again`,
      { retryable: false, details: { from, nonce, transactionHash } },
    );
  }
}

/**
 * A relay's batch did not settle it and it has no attempts left: it ends failed, with nothing
 * transferred and its authorisation unused on chain — the caller may enqueue it again.
 */
export class RelayNotSettledError extends StablerailError {
  override name = "RelayNotSettledError";
  constructor(relayId: string, transactionHash: Hex, why: string) {
    super(
      "RELAY_NOT_SETTLED",
      `Relay ${relayId} was not settled by batch transaction ${transactionHash} (${why}) and has no attempts left; nothing was transferred and its authorisation is unused, so it may be enqueued again`,
      { retryable: false, details: { relayId, transactionHash, why } },
    );
  }
}

/**
 * A mined batch transaction does not report this relay's item as expected (no event for its
 * index and no skipped range holding it, or an event naming another payer or nonce): it is not
 * the batch the relay was recorded in.
 * Nothing is concluded — the relay keeps its last status for an operator to look at.
 */
export class RelayBatchOutcomeUnknownError extends StablerailError {
  override name = "RelayBatchOutcomeUnknownError";
  constructor(shortMessage: string) {
    super("RELAY_BATCH_OUTCOME_UNKNOWN", shortMessage, { retryable: false });
  }
}
