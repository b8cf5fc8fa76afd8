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

/**
 * The webhook delivery queue (producer side). Retries with exponential backoff and jitter over
 * roughly an hour; bounded history of completed and failed jobs.
 */
export function createWebhookQueue({ redisUrl, prefix }: { redisUrl: string; prefix: string }) {
  const connection = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  connection.on("error", () => undefined);
  const queue = new Queue<WebhookJob>(WEBHOOK_QUEUE_NAME, {
    connection,
    prefix: `${prefix}:bull`,
    defaultJobOptions: {
      attempts: 10,
      backoff: { type: "exponential", delay: 1_000, jitter: 0.5 },
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
