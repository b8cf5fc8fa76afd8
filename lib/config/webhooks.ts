import { defineEnvSection } from "./env-section.ts";
import { booleanField, positiveIntField } from "./fields.ts";

/** Settings of webhook dispatch and delivery (in the worker process, or in-process under `npm start`). */
export const webhooksEnv = defineEnvSection(
  "Webhooks",
  {
    WEBHOOK_DISPATCH_INTERVAL_MS: positiveIntField
      .default(500)
      .describe("How often indexed chain events are turned into webhook deliveries, in milliseconds"),
    WEBHOOK_TIMEOUT_MS: positiveIntField
      .default(10_000)
      .describe("How long a merchant endpoint may take to answer one delivery, in milliseconds"),
    WEBHOOK_CONCURRENCY: positiveIntField.default(16).describe("Deliveries one process makes at once"),
    WEBHOOK_ALLOW_LOOPBACK: booleanField
      .default(false)
      .describe(
        "Local development and tests only: let endpoints be http:// on a loopback address (127.0.0.0/8, ::1, localhost); private, link-local and metadata addresses stay refused",
      ),
  },
  (env) => ({
    dispatchIntervalMs: env.WEBHOOK_DISPATCH_INTERVAL_MS,
    timeoutMs: env.WEBHOOK_TIMEOUT_MS,
    concurrency: env.WEBHOOK_CONCURRENCY,
    allowLoopback: env.WEBHOOK_ALLOW_LOOPBACK,
  }),
);

export type WebhookSettings = ReturnType<typeof webhooksEnv.toSettings>;
