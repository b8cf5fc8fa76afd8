import type { Address, Hex } from "viem";

/**
 * What the API needs from the relayer (api/relayer/, owned by the relayer engineer): enqueue a
 * signed movement and read its status. buildApp takes an implementation; `npm start` passes the
 * relayer's `enqueueRelay` / `getRelay`. Kept to this narrow port so the HTTP side compiles and is
 * tested independently of the relayer's internals.
 */
export type TransferWithAuthorizationRelay = {
  kind: "transferWithAuthorization";
  /** Business key; the relayer derives its job id from it. */
  idempotencyKey: string;
  /** Who asked (user id); recorded by the relayer, never trusted for authorisation. */
  requestedBy: string;
  token: Address;
  from: Address;
  to: Address;
  value: bigint;
  validAfter: bigint;
  validBefore: bigint;
  nonce: Hex;
  signature: Hex;
};

export type RelayRequest = TransferWithAuthorizationRelay;

export type RelayStatus = {
  relayId: string;
  /** The relayer's status: queued, signed, submitted, mined, confirmed, failed, replaced, expired, cancelled. */
  state: string;
  transactionHash?: Hex | undefined;
  error?: string | undefined;
};

export type RelayGateway = {
  enqueueRelay: (request: RelayRequest) => Promise<{ relayId: string }>;
  getRelay: (relayId: string) => Promise<RelayStatus | undefined>;
};
