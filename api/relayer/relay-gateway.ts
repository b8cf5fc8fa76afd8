import type { Hex } from "viem";

import type { Database } from "../../lib/db/database.ts";
import type { Logger } from "../../lib/logging/logger.ts";
import type {
  RelayGateway,
  RelayRequest as ApiRelayRequest,
  RelayStatus as ApiRelayStatus,
} from "../money/relay-gateway.ts";
import { enqueueRelay } from "./enqueue-relay.ts";
import { getRelay } from "./get-relay.ts";
import { createRelayQueue, type RelayQueue } from "./queue.ts";
import type { RelayStatus } from "./relay-status.ts";

export type CreateRelayGatewayParameters = {
  redisUrl: string;
  prefix: string;
  logger?: Logger | undefined;
  /** With the shared database, status reads come from the relay tables; without, from the BullMQ job. */
  database?: Database | undefined;
};

/**
 * Adapts the relayer's producer and status reads to the API's narrow {@link RelayGateway} port
 * (api/money/relay-gateway.ts). Exposes `close` for the caller's shutdown path.
 */
export async function createRelayGateway({
  redisUrl,
  prefix,
  database,
}: CreateRelayGatewayParameters): Promise<RelayGateway & { queue: RelayQueue; close: () => Promise<void> }> {
  const queue = createRelayQueue({ redis: redisUrl, prefix });
  return {
    queue,
    close: () => queue.close(),
    enqueueRelay: (request: ApiRelayRequest) =>
      enqueueRelay(queue, {
        idempotencyKey: request.idempotencyKey,
        requestedBy: request.from,
        request: {
          kind: "token.transferWithAuthorization",
          token: request.token,
          from: request.from,
          to: request.to,
          value: request.value.toString(),
          validAfter: request.validAfter.toString(),
          validBefore: request.validBefore.toString(),
          nonce: request.nonce,
          signature: request.signature,
        },
      }),
    getRelay: async (relayId: string): Promise<ApiRelayStatus | undefined> => {
      if (database) {
        const relay = await getRelay(database, relayId);
        if (relay) {
          return {
            relayId,
            state: toApiState(relay.status),
            transactionHash: (relay.transactionHash as Hex | null) ?? undefined,
            error: relay.errorCode === null ? undefined : `${relay.errorCode}: ${relay.errorMessage ?? ""}`,
          };
        }
      }
      const job = (await queue.transfers.getJob(relayId)) ?? (await queue.operator.getJob(relayId));
      if (!job) return undefined;
      const state = await job.getState();
      const progress = (typeof job.progress === "object" ? job.progress : {}) as {
        status?: RelayStatus;
        transactionHash?: Hex;
      };
      if (state === "failed")
        return { relayId, state: "dead", transactionHash: progress.transactionHash, error: job.failedReason };
      return {
        relayId,
        state: progress.status ? toApiState(progress.status) : "queued",
        transactionHash: progress.transactionHash,
      };
    },
  };
}

function toApiState(status: RelayStatus): ApiRelayStatus["state"] {
  switch (status) {
    case "queued":
    case "signed":
      return "queued";
    case "submitted":
    case "mined":
    case "replaced":
      return "submitted";
    case "confirmed":
      return "confirmed";
    case "failed":
      return "failed";
    case "expired":
    case "cancelled":
      return "dead";
  }
}
