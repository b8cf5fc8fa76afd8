/**
 * Delivers webhook jobs: signs the event with the endpoint's active secrets, POSTs it to an address
 * the URL policy judged at this moment (post-webhook.ts), and records the outcome in the endpoint's
 * delivery log. A non-2xx answer, a network error or a refused address throws, so BullMQ retries
 * with backoff — logged `retrying` while attempts remain and `failed` once they are spent (only then
 * may the merchant retry it by hand); a deleted or disabled endpoint is unrecoverable (nothing is sent
 * to it).
 */
import { randomUUID } from "node:crypto";

import { UnrecoverableError, Worker } from "bullmq";
import { eq, sql } from "drizzle-orm";
import { Redis } from "ioredis";

import type { Database } from "../../lib/db/database.ts";
import type { Logger } from "../../lib/logging/logger.ts";
import { webhookDeliveries, webhookEndpoints } from "../db/schema.ts";
import { postWebhook } from "./post-webhook.ts";
import { signWebhookPayload, WEBHOOK_SIGNATURE_HEADER } from "./signature.ts";
import type { WebhookUrlPolicy } from "./webhook-url-policy.ts";
import { WEBHOOK_QUEUE_NAME, webhookJobSchema, type WebhookJob } from "./webhook-queue.ts";

export type CreateWebhookDeliveryWorkerParameters = {
  database: Database;
  redisUrl: string;
  prefix: string;
  logger: Logger;
  timeoutMs?: number;
  concurrency?: number;
  /** Where deliveries may go (WEBHOOK_ALLOW_LOOPBACK); loopback refused unless allowed. */
  urlPolicy?: WebhookUrlPolicy;
};

export function createWebhookDeliveryWorker({
  database,
  redisUrl,
  prefix,
  logger,
  timeoutMs = 10_000,
  concurrency = 16,
  urlPolicy = { allowLoopback: false },
}: CreateWebhookDeliveryWorkerParameters) {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const record = async (job: WebhookJob, status: string, responseStatus: number | null) => {
    await database.db
      .insert(webhookDeliveries)
      .values({
        id: randomUUID(),
        endpointId: job.endpointId,
        eventId: job.event.id,
        eventType: job.event.type,
        status,
        responseStatus,
        attempts: 1,
      })
      .onConflictDoUpdate({
        target: [webhookDeliveries.endpointId, webhookDeliveries.eventId],
        set: { status, responseStatus, attempts: sql`${webhookDeliveries.attempts} + 1` },
      });
  };
  const worker = new Worker<WebhookJob>(
    WEBHOOK_QUEUE_NAME,
    async (bullJob) => {
      const job = webhookJobSchema.parse(bullJob.data);
      // attemptsMade counts the attempts before this one; a manual retry of a spent job has none left.
      const failedStatus = bullJob.attemptsMade + 1 < (bullJob.opts.attempts ?? 1) ? "retrying" : "failed";
      const [endpoint] = await database.db
        .select()
        .from(webhookEndpoints)
        .where(eq(webhookEndpoints.id, job.endpointId));
      if (!endpoint) throw new UnrecoverableError(`webhook endpoint ${job.endpointId} no longer exists`);
      if (!endpoint.enabled) throw new UnrecoverableError(`webhook endpoint ${job.endpointId} is disabled`);
      const body = JSON.stringify(job.event);
      let status: number;
      try {
        status = await postWebhook(endpoint.url, {
          headers: {
            "content-type": "application/json",
            [WEBHOOK_SIGNATURE_HEADER]: signWebhookPayload(
              body,
              endpoint.secrets as string[],
              Math.floor(Date.now() / 1000),
            ),
          },
          body,
          timeoutMs,
          policy: urlPolicy,
        });
      } catch (error) {
        await record(job, failedStatus, null);
        throw error;
      }
      if (status < 200 || status >= 300) {
        await record(job, failedStatus, status);
        throw new Error(`endpoint answered ${status}`);
      }
      await record(job, "delivered", status);
    },
    { connection, prefix: `${prefix}:bull`, concurrency },
  );
  worker.on("error", (error) => logger.error({ err: error }, "webhook worker error"));
  worker.on("failed", (job, error) =>
    logger.warn({ jobId: job?.id, attempts: job?.attemptsMade, err: error }, "webhook delivery failed"),
  );
  return {
    worker,
    close: async () => {
      await worker.close();
      connection.disconnect();
    },
  };
}
