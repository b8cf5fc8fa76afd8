/**
 * The life of a relay: queued → signed → submitted → mined → confirmed, or one of the end
 * states failed, replaced, expired, cancelled. `replaced` marks a transaction superseded at the
 * same nonce; the relay itself continues with the replacement.
 */
export const relayStatuses = [
  "queued",
  "signed",
  "submitted",
  "mined",
  "confirmed",
  "failed",
  "replaced",
  "expired",
  "cancelled",
] as const;
export type RelayStatus = (typeof relayStatuses)[number];

export const finalRelayStatuses: ReadonlySet<RelayStatus> = new Set(["confirmed", "failed", "expired", "cancelled"]);

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
  /** The relay's item index in its settlement batch transaction; `null` when it was sent alone. */
  batchIndex: number | null;
  errorCode: string | null;
  errorMessage: string | null;
  deadline: Date | null;
  createdAt: Date;
  updatedAt: Date;
  transitions: RelayTransition[];
};
