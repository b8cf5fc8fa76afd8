import { eq, sql } from "drizzle-orm";

import type { Database } from "../lib/db/database.ts";
import { NotFoundError, StablerailError } from "../lib/errors/base.ts";
import { relayerTransactions, relays } from "./db/schema.ts";
import { relayJobSchema } from "./jobs/relay-job.ts";
import type { RelayQueue } from "./queue.ts";
import { ensureRelayRecorded, recordTransition } from "./record-transition.ts";

/** The relay can no longer be cancelled: a worker holds it, or it was sent, or it has ended. */
export class RelayNotCancellableError extends StablerailError {
  override name = "RelayNotCancellableError";
  constructor(relayId: string, why: string) {
    super("RELAY_NOT_CANCELLABLE", `Relay ${relayId} cannot be cancelled: ${why}`, { details: { relayId } });
  }
}

/**
 * Cancels a relay that no transaction has been signed for. The job is removed first — atomically
 * in BullMQ, and refused while a worker holds it — so no worker can start it afterwards; then, if
 * a transaction turns out to be recorded for it (sent by an earlier attempt that is waiting for a
 * retry), the job is put back so it keeps following that nonce, and the cancel is refused: a
 * relay that may still mine is never reported cancelled. A `dead` relay (out of attempts with
 * nothing sent) is a dead letter an operator may close the same way.
 * @param by - who cancels (recorded with the transition)
 * @throws NotFoundError RELAY_NOT_FOUND, RelayNotCancellableError RELAY_NOT_CANCELLABLE
 */
export async function cancelRelay(queue: RelayQueue, database: Database, relayId: string, by: string): Promise<void> {
  const job = (await queue.transfers.getJob(relayId)) ?? (await queue.operator.getJob(relayId));
  const [recorded] = await database.db
    .select({ status: relays.status })
    .from(relays)
    .where(eq(relays.relayId, relayId));
  if (recorded?.status === "dead" && (!job || (await job.getState()) === "failed")) {
    // A dead letter (nothing was ever sent for it): the operator closes it for good.
    const moved = await recordTransition(database, [relayId], "cancelled", {
      errorCode: "RELAY_CANCELLED",
      errorMessage: `cancelled by ${by} after it ended dead; nothing was sent`,
      onlyFrom: ["dead"],
    });
    if (moved.length > 0) return;
  }
  if (!job) {
    if (recorded) throw new RelayNotCancellableError(relayId, `it is ${recorded.status}`);
    throw new NotFoundError("RELAY_NOT_FOUND", `No relay ${relayId}`);
  }
  const owner = job.queueName === queue.operator.name ? queue.operator : queue.transfers;
  const state = await job.getState();
  if (!["waiting", "delayed", "prioritized", "paused"].includes(state))
    throw new RelayNotCancellableError(relayId, `it is ${state === "active" ? "being sent" : state}`);
  try {
    await job.remove();
  } catch {
    throw new RelayNotCancellableError(relayId, "a worker has just taken it");
  }
  const [sent] = await database.db
    .select({ hash: relayerTransactions.hash })
    .from(relayerTransactions)
    .where(sql`${relayerTransactions.relayIds} @> ${JSON.stringify([relayId])}::jsonb`)
    .limit(1);
  if (sent) {
    await owner.add(job.name, job.data, { ...job.opts, jobId: relayId });
    throw new RelayNotCancellableError(relayId, `transaction ${sent.hash} was already sent for it`);
  }
  const relay = relayJobSchema.parse(job.data);
  await ensureRelayRecorded(database, relay, new Date(job.timestamp));
  await recordTransition(database, [relayId], "cancelled", {
    errorCode: "RELAY_CANCELLED",
    errorMessage: `cancelled by ${by} before it was sent`,
  });
}
