import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { z } from "zod";

export const WEBHOOK_QUEUE_NAME = "webhooks";

/** A delivery job: which event to which endpoint. No secrets in job data — the worker reads them. */
export const webhookJobSchema = z.object({
  endpointId: z.uuid(),
  event: z.object({ id: z.string(), type: z.string(), createdAt: z.string(), data: z.record(z.string(), z.unknown()) }),
});
export type WebhookJob = z.infer<typeof webhookJobSchema>;

/** The job id of one event's delivery to one endpoint (a business key: no `:`, never all digits). */
export function webhookJobId(endpointId: string, eventId: string): string {
  return `${endpointId}-${eventId}`;
}

export type WebhookQueueParameters = {
  redisUrl: string;
  prefix: string;
  /** Attempts before a delivery is `failed` for good (10 by default: roughly an hour of backoff). */
  attempts?: number;
  /** First backoff delay; it doubles at every attempt, with jitter. */
  backoffDelayMs?: number;
};

/**
 * The webhook delivery queue (producer side). Retries with exponential backoff and jitter over
 * roughly an hour; bounded history of completed and failed jobs (a failed job is kept so its
 * merchant can retry it: api/webhooks/retry-webhook-delivery.ts).
 */
export function createWebhookQueue({
  redisUrl,
  prefix,
  attempts = 10,
  backoffDelayMs = 1_000,
}: WebhookQueueParameters) {
  const connection = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  connection.on("error", () => undefined);
  const queue = new Queue<WebhookJob>(WEBHOOK_QUEUE_NAME, {
    connection,
    prefix: `${prefix}:bull`,
    defaultJobOptions: {
      attempts,
      backoff: { type: "exponential", delay: backoffDelayMs, jitter: 0.5 },
      removeOnComplete: { count: 1_000 },
      removeOnFail: { count: 10_000 },
    },
  });
  return {
    queue,
    close: async () => {
      await queue.close();
      connection.disconnect();
    },
  };
}
