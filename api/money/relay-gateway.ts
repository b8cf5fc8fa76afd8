import type { Hex } from "viem";

import type { RelayRequestInput } from "../relayer/jobs/relay-request.ts";

/**
 * What the API needs from the relayer: queue a relay request and read its status. The request is
 * the relayer's own job schema (api/relayer/jobs/relay-request.ts) — one schema on both sides of
 * the queue. Only submitMoneyMovement calls `enqueueRelay`; routes never do.
 */
export type RelayGatewayRequest = {
  /** Business key; the relayer derives its job id from it, so a retried request never queues twice. */
  idempotencyKey: string;
  /** Who asked (user id); recorded by the relayer, never trusted for authorisation. */
  requestedBy: string;
  /** After this instant the relay is cancelled (status `expired`) rather than sent. */
  deadline?: Date | undefined;
  request: RelayRequestInput;
};

/** A relay's status as the API shows it: the relayer's finer states folded into five. */
export type RelayStatus = {
  relayId: string;
  /** queued (queued, signed), submitted (submitted, mined, replaced), confirmed, failed, dead (expired, cancelled). */
  state: "queued" | "submitted" | "confirmed" | "failed" | "dead";
  transactionHash?: Hex | undefined;
  /** The block that mined it, once mined (known to the relayer's database). */
  blockNumber?: bigint | undefined;
  error?: string | undefined;
};

export type RelayGateway = {
  enqueueRelay: (request: RelayGatewayRequest) => Promise<{ relayId: string }>;
  getRelay: (relayId: string) => Promise<RelayStatus | undefined>;
  /** Cancels a relay no transaction was sent for; throws RELAY_NOT_CANCELLABLE otherwise. */
  cancelRelay: (relayId: string, by: string) => Promise<void>;
};
