/**
 * The life of a relay: queued → signed → submitted → mined → confirmed, or one of the end
 * states failed, expired, cancelled, dead. Two statuses mark a step of its transaction, after
 * which the relay goes on: `replaced` (superseded at the same nonce by a transaction with higher
 * fees, or — its transaction mined and ran out of gas, nothing of the call executed — by a new
 * transaction with a higher gas limit; the relay continues with the replacement) and `reorged`
 * (the block that mined it left the chain; the relay is `submitted` again while the relayer
 * re-sends the same signed bytes at the same nonce, until it mines again or ends failed).
 *
 * `dead`: the relay ran out of attempts before any transaction was signed for it — nothing can
 * execute on chain; an operator may retry it (POST /v1/relays/:id/retry) or cancel it.
 */
export const relayStatuses = [
  "queued",
  "signed",
  "submitted",
  "mined",
  "confirmed",
  "failed",
  "replaced",
  "reorged",
  "expired",
  "cancelled",
  "dead",
] as const;
export type RelayStatus = (typeof relayStatuses)[number];

export const finalRelayStatuses: ReadonlySet<RelayStatus> = new Set([
  "confirmed",
  "failed",
  "expired",
  "cancelled",
  "dead",
]);

/** One recorded move of a relay, with its time, so an operator can see where time went. */
export type RelayTransition = {
  relayId: string;
  status: RelayStatus;
  at: Date;
  transactionHash: string | null;
  detail: Record<string, unknown> | null;
};

/** A relay as the status reads return it. */
export type Relay = {
  relayId: string;
  kind: string;
  status: RelayStatus;
  requestedBy: string;
  relayer: string | null;
  nonce: number | null;
  transactionHash: string | null;
  blockNumber: bigint | null;
  /** The hash of the block that mined it (checked against the chain until the block is final). */
  blockHash: string | null;
  /** The relay's item index in its settlement batch transaction; `null` when it was sent alone. */
  batchIndex: number | null;
  errorCode: string | null;
  errorMessage: string | null;
  deadline: Date | null;
  createdAt: Date;
  updatedAt: Date;
  transitions: RelayTransition[];
};
