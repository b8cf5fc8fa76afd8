import { enqueueRelay } from "../relayer/enqueue-relay.ts";
import type { RelayQueue } from "../relayer/queue.ts";
import type { Relay } from "../relayer/relay-status.ts";
import type { RelayGateway } from "./relay-gateway.ts";

export type CreateRelayerGatewayParameters = {
  queue: RelayQueue;
  /** The relayer's status read (api/relayer getRelay). */
  getRelay: (relayId: string) => Promise<Relay | undefined>;
};

/**
 * Connects submitMoneyMovement to the relayer: maps the API's relay requests onto the relayer's
 * job schema (`token.transferWithAuthorization`, decimal strings) and its status onto the API's.
 * The relay is cancelled rather than sent once the authorization's validBefore has passed.
 */
export function createRelayerGateway({ queue, getRelay }: CreateRelayerGatewayParameters): RelayGateway {
  return {
    enqueueRelay: async (request) =>
      enqueueRelay(queue, {
        idempotencyKey: request.idempotencyKey,
        requestedBy: request.requestedBy,
        deadline: new Date(Number(request.validBefore) * 1000),
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
    getRelay: async (relayId) => {
      const relay = await getRelay(relayId);
      if (!relay) return undefined;
      return {
        relayId,
        state: relay.status,
        transactionHash: (relay.transactionHash ?? undefined) as `0x${string}` | undefined,
        error: relay.errorMessage ?? undefined,
      };
    },
  };
}
