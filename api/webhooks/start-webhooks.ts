/**
 * Webhooks at run time: the dispatcher (indexed chain events → delivery jobs, one per merchant
 * endpoint) and the delivery worker (signs and POSTs each job, retried with backoff). Runs in the
 * worker process (`npm run worker`) and in-process under `npm start`. Several processes may run
 * it against one Redis: jobs are keyed by endpoint and event id, so none is delivered twice.
 */
import { Redis } from "ioredis";

import type { WebhookSettings } from "../../lib/config/webhooks.ts";
import type { Database } from "../../lib/db/database.ts";
import type { Logger } from "../../lib/logging/logger.ts";
import { createWebhookDeliveryWorker } from "./delivery-worker.ts";
import { startWebhookDispatcher } from "./dispatch-chain-events.ts";
import { createWebhookQueue } from "./webhook-queue.ts";

export type StartWebhooksParameters = {
  database: Database;
  redisUrl: string;
  prefix: string;
  chainId: number;
  logger: Logger;
  settings: WebhookSettings;
};

/** @returns `close`, which stops dispatching, drains the worker and closes its connections */
export function startWebhooks(p: StartWebhooksParameters): { close: () => Promise<void> } {
  const logger = p.logger.child({ component: "webhooks" });
  const redis = new Redis(p.redisUrl, { maxRetriesPerRequest: 1 });
  redis.on("error", (error) => logger.error({ err: error }, "webhook dispatcher redis error"));
  const queue = createWebhookQueue({ redisUrl: p.redisUrl, prefix: p.prefix });
  const dispatcher = startWebhookDispatcher({
    database: p.database,
    redis,
    prefix: p.prefix,
    chainId: p.chainId,
    queue: queue.queue,
    intervalMs: p.settings.dispatchIntervalMs,
    onError: (error) => logger.error({ err: error }, "webhook dispatch failed; retrying"),
  });
  const worker = createWebhookDeliveryWorker({
    database: p.database,
    redisUrl: p.redisUrl,
    prefix: p.prefix,
    logger,
    timeoutMs: p.settings.timeoutMs,
    concurrency: p.settings.concurrency,
    urlPolicy: { allowLoopback: p.settings.allowLoopback },
  });
  return {
    close: async () => {
      await dispatcher.stop();
      await worker.close();
      await queue.close();
      redis.disconnect();
    },
  };
}
