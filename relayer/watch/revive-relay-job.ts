import { eq } from "drizzle-orm";

import type { Database } from "../../lib/db/database.ts";
import { relays } from "../db/schema.ts";
import { relayJobSchema } from "../jobs/relay-job.ts";
import { operatorKinds } from "../jobs/relay-request.ts";
import type { RelayQueue } from "../queue.ts";

/**
 * Puts a relay's job back in its queue so a worker follows the relay again: a finished job
 * (completed — its block later left the chain — or failed by BullMQ's stalled-job limit) is
 * retried with its attempts reset; a job no longer in Redis (removed by the history limits) is
 * added again from the relay's recorded request, marked `resumed` so it follows what is recorded
 * instead of sending anew. A job that is waiting or running is left alone.
 * @returns whether a job was put back
 */
export async function reviveRelayJob(queue: RelayQueue, database: Database, relayId: string): Promise<boolean> {
  const [relay] = await database.db.select().from(relays).where(eq(relays.relayId, relayId));
  if (!relay) return false;
  const target = operatorKinds.has(relay.kind as never) ? queue.operator : queue.transfers;
  const job = await target.getJob(relayId);
  if (job) {
    const state = await job.getState();
    if (state !== "completed" && state !== "failed") return false;
    try {
      await job.retry(state, { resetAttemptsMade: true });
      return true;
    } catch {
      return false; // another process revived it first
    }
  }
  const data = relayJobSchema.parse({
    relayId,
    request: relay.request,
    requestedBy: relay.requestedBy,
    deadline: relay.deadline?.toISOString(),
    resumed: true,
  });
  await target.add(data.request.kind, data, { jobId: relayId });
  return true;
}
