import { createHash } from "node:crypto";

import { UnavailableError, ValidationError } from "../lib/errors/base.ts";
import { relayJobSchema, type RelayJob } from "./jobs/relay-job.ts";
import { operatorKinds, type RelayRequestInput } from "./jobs/relay-request.ts";
import type { RelayQueue } from "./queue.ts";

export type EnqueueRelayParameters = {
  /** The caller's business key (scoped by the caller, e.g. `<userId>.<Idempotency-Key>`). */
  idempotencyKey: string;
  request: RelayRequestInput;
  /** After this time the relay is cancelled (status `expired`) rather than sent. */
  deadline?: Date | undefined;
  requestedBy: string;
};

export type EnqueueRelayResult = { relayId: string; status: "queued"; job: RelayJob };

/**
 * Derives the relay id (= BullMQ job id) from the business key: `relay-` and the first 32 hex
 * digits (128 bits) of its SHA-256. Fixed length (38 characters, inside every path-parameter
 * limit), opaque — neither the user id nor the client's Idempotency-Key can be read back from it —
 * and stable, so the same request retried maps to the same job. Never contains `:` (BullMQ).
 * @example relayIdFor("transfer.u1.k1") // "relay-" + 32 hex digits
 */
export function relayIdFor(idempotencyKey: string): string {
  return `relay-${createHash("sha256").update(idempotencyKey).digest("hex").slice(0, 32)}`;
}

/**
 * Queues a relay. The job id comes from the idempotency key, so the same request retried never
 * queues twice: BullMQ returns the existing job instead.
 * @returns the relay id and `queued`
 * @throws ValidationError (`RELAY_REQUEST_INVALID`) when the request does not parse
 * @throws UnavailableError (`RELAY_QUEUE_UNAVAILABLE`) when Redis does not answer (map to 503)
 * @example
 * const { relayId } = await enqueueRelay(queue, { idempotencyKey: "u1.k1", request, requestedBy: "u1" });
 */
export async function enqueueRelay(
  queue: RelayQueue,
  { idempotencyKey, request, deadline, requestedBy }: EnqueueRelayParameters,
): Promise<EnqueueRelayResult> {
  const relayId = relayIdFor(idempotencyKey);
  const parsed = relayJobSchema.safeParse({ relayId, request, deadline: deadline?.toISOString(), requestedBy });
  if (!parsed.success) {
    throw new ValidationError(
      "RELAY_REQUEST_INVALID",
      `Relay request is invalid: ${parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ")}`,
    );
  }
  const job: RelayJob = parsed.data;
  const target = operatorKinds.has(job.request.kind) ? queue.operator : queue.transfers;
  try {
    await target.add(job.request.kind, job, { jobId: relayId });
  } catch (error) {
    throw new UnavailableError(
      "RELAY_QUEUE_UNAVAILABLE",
      `The relay queue (Redis) did not answer; retry later: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return { relayId, status: "queued", job };
}
