/**
 * Delivers webhook jobs: signs the event with the endpoint's active secrets, POSTs it, and records
 * the outcome in the endpoint's delivery log. A non-2xx answer or a network error throws, so
 * BullMQ retries with backoff; a deleted endpoint is unrecoverable.
 */
import { randomUUID } from "node:crypto";

import { UnrecoverableError, Worker } from "bullmq";
import { eq, sql } from "drizzle-orm";
import { Redis } from "ioredis";

import type { Database } from "../../lib/db/database.ts";
import type { Logger } from "../../lib/logging/logger.ts";
import { webhookDeliveries, webhookEndpoints } from "../db/schema.ts";
import { signWebhookPayload, WEBHOOK_SIGNATURE_HEADER } from "./signature.ts";
import { WEBHOOK_QUEUE_NAME, webhookJobSchema, type WebhookJob } from "./webhook-queue.ts";

export type CreateWebhookDeliveryWorkerParameters = {
  database: Database;
  redisUrl: string;
  prefix: string;
  logger: Logger;
  timeoutMs?: number;
  concurrency?: number;
};

export function createWebhookDeliveryWorker({
  database,
  redisUrl,
  prefix,
  logger,
  timeoutMs = 10_000,
  concurrency = 16,
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
      const [endpoint] = await database.db
        .select()
        .from(webhookEndpoints)
        .where(eq(webhookEndpoints.id, job.endpointId));
      if (!endpoint) throw new UnrecoverableError(`webhook endpoint ${job.endpointId} no longer exists`);
      const body = JSON.stringify(job.event);
      let status: number;
      try {
        const response = await fetch(endpoint.url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            [WEBHOOK_SIGNATURE_HEADER]: signWebhookPayload(
              body,
              endpoint.secrets as string[],
              Math.floor(Date.now() / 1000),
            ),
          },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        status = response.status;
        await response.body?.cancel();
      } catch (error) {
        await record(job, "failed", null);
        throw error;
      }
      if (status < 200 || status >= 300) {
        await record(job, "failed", status);
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
