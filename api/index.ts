/**
 * The API service's public surface for the composition roots (`npm start`, the worker process) and
 * tests: the HTTP server and the webhook delivery that runs beside the relayer. Named re-exports only.
 */
export { buildApp } from "./app.ts";
export type { AppDependencies, AppServices } from "./dependencies.ts";
export { escrowOperatorOf, startApiServer, type ApiServer, type StartApiServerParameters } from "./server.ts";
export { startWebhooks, type StartWebhooksParameters } from "./webhooks/start-webhooks.ts";
export { verifyWebhookSignature, signWebhookPayload, WEBHOOK_SIGNATURE_HEADER } from "./webhooks/signature.ts";
