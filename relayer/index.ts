/**
 * The relayer service's public surface: the only module other services (the API, `npm start`,
 * scripts, benchmarks) import. It is the queue contract — the relay request schema, the producer,
 * the status reads — and the worker starter. Named re-exports only.
 */
export { relayIdFor } from "./enqueue-relay.ts";
export {
  createRelayGateway,
  type CreateRelayGatewayParameters,
  type RelayGateway,
  type RelayGatewayRequest,
  type RelaySummary,
} from "./relay-gateway.ts";
export { getRelay } from "./get-relay.ts";
export { sumUnminedRelays } from "./sum-unmined-relays.ts";
export { deadLetterActions, type ChainReads, type DeadLetterActions } from "./dead-letters.ts";
export { listStuckKeys, type StuckKey } from "./watch/stuck-keys.ts";
export { deadLetterStatuses, listRelays, type ListRelaysParameters, type RelayPosition } from "./list-relays.ts";
export {
  paymentTermsSchema,
  relayRequestSchema,
  type PaymentTermsInput,
  type RelayKind,
  type RelayRequest,
  type RelayRequestInput,
} from "./jobs/relay-request.ts";
export { relayStatuses, type Relay, type RelayStatus, type RelayTransition } from "./relay-status.ts";
export { relayerMigrations } from "./db/migration-set.ts";
export {
  startRelayerWorkers,
  type RelayerWorkers,
  type StartRelayerWorkersParameters,
} from "./start-relayer-workers.ts";
