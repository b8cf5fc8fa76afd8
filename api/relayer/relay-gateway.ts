import type { Hex } from "viem";

import type { Database } from "../../lib/db/database.ts";
import type { RelayGateway, RelayStatus as ApiRelayStatus } from "../money/relay-gateway.ts";
import { cancelRelay } from "./cancel-relay.ts";
import { enqueueRelay } from "./enqueue-relay.ts";
import { getRelay } from "./get-relay.ts";
import { createRelayQueue, type RelayQueue } from "./queue.ts";
import type { RelayStatus } from "./relay-status.ts";

export type CreateRelayGatewayParameters = {
  redisUrl: string;
  prefix: string;
  /** With the shared database, status reads come from the relay tables; without, from the BullMQ job. */
  database?: Database | undefined;
};

/**
 * The relayer's side of the API's {@link RelayGateway} port (api/money/relay-gateway.ts): a
 * producer on the relay queues and status reads. Exposes `close` for the caller's shutdown path.
 */
export function createRelayGateway({
  redisUrl,
  prefix,
  database,
}: CreateRelayGatewayParameters): RelayGateway & { queue: RelayQueue; close: () => Promise<void> } {
  const queue = createRelayQueue({ redis: redisUrl, prefix });
  return {
    queue,
    close: () => queue.close(),
    enqueueRelay: (request) => enqueueRelay(queue, request),
    cancelRelay: async (relayId, by) => {
      if (!database) throw new Error("cancelRelay needs the relay database");
      await cancelRelay(queue, database, relayId, by);
    },
    getRelay: async (relayId: string): Promise<ApiRelayStatus | undefined> => {
      if (database) {
        const relay = await getRelay(database, relayId);
        if (relay) {
          return {
            relayId,
            state: toApiState(relay.status),
            transactionHash: (relay.transactionHash as Hex | null) ?? undefined,
            blockNumber: relay.blockNumber ?? undefined,
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
