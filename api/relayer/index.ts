/**
 * The relayer's entry points for other parts of the stack (the API, `npm start`): the producer,
 * the status reads, the API port adapter and the worker starter. Named re-exports only.
 */
export { enqueueRelay, relayIdFor, type EnqueueRelayParameters, type EnqueueRelayResult } from "./enqueue-relay.ts";
export { createRelayQueue, OPERATOR_QUEUE, TRANSFER_QUEUE, type RelayQueue } from "./queue.ts";
export { getRelay } from "./get-relay.ts";
export { listDeadLetters, listRelays, type ListRelaysParameters } from "./list-relays.ts";
export { createRelayGateway, type CreateRelayGatewayParameters } from "./relay-gateway.ts";
export { relayRequestSchema, type RelayRequest, type RelayRequestInput, type RelayKind } from "./jobs/relay-request.ts";
export { relayJobSchema, type RelayJob } from "./jobs/relay-job.ts";
export { relayStatuses, type Relay, type RelayStatus, type RelayTransition } from "./relay-status.ts";
export { relayerMigrations } from "./db/migration-set.ts";
export { createRelayerMetrics, type RelayerMetrics } from "./metrics.ts";
export {
  startRelayerWorkers,
  type RelayerWorkers,
  type StartRelayerWorkersParameters,
} from "./start-relayer-workers.ts";
