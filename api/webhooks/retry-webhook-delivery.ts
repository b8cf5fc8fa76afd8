/**
 * A merchant sends a failed webhook delivery once more, by hand: the same event (same id, same
 * payload, signed afresh by the worker with the endpoint's current secrets) to the same endpoint.
 * Only a delivery whose automatic retries are spent (`failed`) may be retried; the log row is moved
 * `failed → queued` by one conditional UPDATE first, so of two concurrent retries exactly one wins
 * and queues the delivery — the other is told it is no longer failed.
 */
import type { Queue } from "bullmq";
import { and, eq } from "drizzle-orm";

import type { Database } from "../../lib/db/database.ts";
import { NotFoundError } from "../../lib/errors/base.ts";
import type { Principal } from "../auth/principal.ts";
import { webhookDeliveries } from "../db/schema.ts";
import { ConflictError } from "../errors/api-errors.ts";
import { loadWebhookEndpoint } from "./endpoints/load-webhook-endpoint.ts";
import { webhookJobId, type WebhookJob } from "./webhook-queue.ts";

export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;

/**
 * Queues one more attempt of a failed delivery of `principal`'s endpoint.
 * @returns the delivery, now `queued`
 * @throws NotFoundError WEBHOOK_ENDPOINT_NOT_FOUND / WEBHOOK_DELIVERY_NOT_FOUND (unknown, or not the
 *   caller's: the same answer either way); ConflictError WEBHOOK_DELIVERY_NOT_FAILED (delivered,
 *   still being retried, or already queued by another retry), WEBHOOK_DELIVERY_EXPIRED (its job has
 *   left the queue's bounded history, so the event is no longer at hand)
 */
export async function retryWebhookDelivery(
  { database, queue }: { database: Database; queue: Queue<WebhookJob> },
  principal: Principal,
  endpointId: string,
  deliveryId: string,
): Promise<WebhookDeliveryRow> {
  const endpoint = await loadWebhookEndpoint(database, principal, endpointId, { write: true });
  const db = database.db;
  const ofEndpoint = and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.endpointId, endpoint.id));
  const [delivery] = await db.select().from(webhookDeliveries).where(ofEndpoint);
  if (!delivery) throw new NotFoundError("WEBHOOK_DELIVERY_NOT_FOUND", "No such delivery of this webhook endpoint");
  const notFailed = (status: string) =>
    new ConflictError(
      "WEBHOOK_DELIVERY_NOT_FAILED",
      `This delivery is ${status}; only a failed one (its automatic retries spent) can be retried`,
      { details: { status } },
    );
  if (delivery.status !== "failed") throw notFailed(delivery.status);

  const job = await queue.getJob(webhookJobId(endpoint.id, delivery.eventId));
  // The log said failed but BullMQ may still hold it delayed for a last automatic attempt: only a
  // job BullMQ itself has given up on is retried, so no attempt of it is in flight.
  const state = job ? await job.getState() : "unknown";
  if (!job || state === "unknown") {
    throw new ConflictError(
      "WEBHOOK_DELIVERY_EXPIRED",
      "This delivery is too old to retry: its event has left the delivery queue's history",
    );
  }
  if (state !== "failed") throw notFailed("retrying");

  const [queued] = await db
    .update(webhookDeliveries)
    .set({ status: "queued" })
    .where(and(ofEndpoint, eq(webhookDeliveries.status, "failed")))
    .returning();
  if (!queued) throw notFailed("queued");
  try {
    // attemptsMade is kept: the job has no automatic attempts left, so this is exactly one more.
    await job.retry("failed");
  } catch (error) {
    // Not queued after all (Redis failed): put the log back so the merchant can try again.
    await db
      .update(webhookDeliveries)
      .set({ status: "failed" })
      .where(and(ofEndpoint, eq(webhookDeliveries.status, "queued")));
    throw error;
  }
  return queued;
}
