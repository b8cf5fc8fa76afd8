import { StablerailError } from "../lib/errors/base.ts";

/**
 * Errors of the relayer. `retryable: false` ones become BullMQ `UnrecoverableError`s: the job
 * fails at once and lands in the dead-letter view with its code.
 */
export class RelayPolicyError extends StablerailError {
  override name = "RelayPolicyError";
  constructor(
    code: "RELAY_POLICY_RECIPIENT_NOT_ALLOWED" | "RELAY_POLICY_GAS_PRICE_TOO_HIGH",
    shortMessage: string,
    details?: Record<string, unknown>,
  ) {
    super(code, shortMessage, { retryable: false, details });
  }
}

/** The call reverts (in simulation or on chain); `reason` is the decoded custom error. */
export class RelayRevertedError extends StablerailError {
  override name = "RelayRevertedError";
  readonly reason: string;
  constructor(reason: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super("RELAY_REVERTED", `The relayed call reverts with ${reason}; fix the request, it will not succeed as is`, {
      ...options,
      retryable: false,
    });
    this.reason = reason;
  }
}

/**
 * The relay's transaction ran out of gas on chain each time it was sent, the last time with
 * `gasLimit`: nothing of the call executed. The relayer re-sends an out-of-gas relay with a higher
 * limit (MAX_OUT_OF_GAS_RESENDS times, process-relay.ts); past that it gives up with this error.
 */
export class RelayOutOfGasError extends StablerailError {
  override name = "RelayOutOfGasError";
  constructor(gasLimit: bigint, sends: number) {
    super(
      "RELAY_OUT_OF_GAS",
      `The relayed call ran out of gas on chain ${sends} time(s), the last at a limit of ${gasLimit}; nothing of it executed — submit it again`,
      { retryable: false, details: { gasLimit: gasLimit.toString(), sends } },
    );
  }
}

/** The relay's deadline passed before it was sent; it is cancelled, not sent. */
export class RelayExpiredError extends StablerailError {
  override name = "RelayExpiredError";
  constructor(deadline: string) {
    super("RELAY_EXPIRED", `The relay's deadline ${deadline} passed before it could be sent`, { retryable: false });
  }
}

/** Another transaction of the relayer key was mined at the relay's nonce: its own can never be mined. */
export class RelayNonceTakenError extends StablerailError {
  override name = "RelayNonceTakenError";
  constructor(relayer: string, nonce: number) {
    super(
      "RELAY_NONCE_TAKEN",
      `Nonce ${nonce} of relayer key ${relayer} was used by another transaction; this relay was not executed — submit it again`,
      { retryable: false, details: { relayer, nonce } },
    );
  }
}

/** This worker holds no lease on a key that may send the job; another worker (or later) will. */
export class RelayerKeyUnavailableError extends StablerailError {
  override name = "RelayerKeyUnavailableError";
  constructor(shortMessage: string) {
    super("RELAYER_KEY_UNAVAILABLE", shortMessage, { retryable: true });
  }
}

/** A worker lost its lease on a key (another process took it over); it must stop sending from it. */
export class RelayerLeaseLostError extends StablerailError {
  override name = "RelayerLeaseLostError";
  constructor(address: string) {
    super("RELAYER_LEASE_LOST", `The lease on relayer key ${address} was lost; another worker owns it now`, {
      retryable: true,
    });
  }
}

/**
 * The node will not take a transaction at a nonce of this key that it lacks (it refuses the bytes
 * even re-signed with fresh fees, or a lower nonce is missing): every later transaction of the key
 * waits behind it. Retryable — the next re-synchronisation tries again; an operator sees the key
 * as stuck (GET /ready, the stuck-key metric).
 */
export class RelayerKeyStuckError extends StablerailError {
  override name = "RelayerKeyStuckError";
  constructor(relayer: string, nonce: number, why: string) {
    super("RELAYER_KEY_STUCK", `Relayer key ${relayer} is stuck at nonce ${nonce}: ${why}`, {
      retryable: true,
      details: { relayer, nonce },
    });
  }
}

/**
 * The block that mined the relay's transaction left the chain (a reorg) before the relay was
 * final. Retryable: the relay follows the same signed transaction again at its nonce, which the
 * nonce manager re-broadcasts; it cannot be paid twice.
 */
export class RelayReorgedError extends StablerailError {
  override name = "RelayReorgedError";
  constructor(relayId: string, transactionHash: string, blockNumber: bigint) {
    super(
      "RELAY_REORGED",
      `Relay ${relayId}: block ${blockNumber} that mined ${transactionHash} left the chain; following the same transaction again`,
      { retryable: true, details: { relayId, transactionHash, blockNumber: blockNumber.toString() } },
    );
  }
}

/**
 * A relay used every attempt without a transaction ever being signed for it: nothing can execute on
 * chain. It ends `dead` — an operator may retry it (its authorization still unused) or cancel it.
 */
export class RelayRetriesExhaustedError extends StablerailError {
  override name = "RelayRetriesExhaustedError";
  constructor(attempts: number, lastError: string) {
    super(
      "RELAY_RETRIES_EXHAUSTED",
      `Every one of ${attempts} attempts failed before a transaction was signed, the last with: ${lastError}; nothing was sent — retry it or cancel it`,
      { retryable: false, details: { attempts } },
    );
  }
}
