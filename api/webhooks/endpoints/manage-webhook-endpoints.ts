/**
 * A merchant's webhook endpoints: register (the signing secret shown once), change the URL or turn
 * it off and on, rotate the secret, delete. Every URL passes the webhook URL policy
 * (webhook-url-policy.ts) when it is set — and again at every delivery.
 */
import { randomBytes, randomUUID } from "node:crypto";

import { and, count, eq } from "drizzle-orm";

import type { Principal } from "../../auth/principal.ts";
import { webhookEndpoints } from "../../db/schema.ts";
import type { AppServices } from "../../dependencies.ts";
import { ConflictError } from "../../errors/api-errors.ts";
import { checkWebhookUrl } from "../webhook-url-policy.ts";
import { loadWebhookEndpoint, type WebhookEndpointRow } from "./load-webhook-endpoint.ts";

/** Endpoints one merchant may register. */
export const MAX_WEBHOOK_ENDPOINTS_PER_USER = 20;

type Services = Pick<AppServices, "database" | "webhookUrlPolicy">;
const newSecret = () => `whsec_${randomBytes(32).toString("base64url")}`;

/**
 * Registers an endpoint for the merchant.
 * @returns the endpoint and its secret (shown only here)
 * @throws WEBHOOK_URL_FORBIDDEN, ConflictError WEBHOOK_ENDPOINT_LIMIT_REACHED
 */
export async function createWebhookEndpoint(
  services: Services,
  principal: Principal,
  url: string,
): Promise<WebhookEndpointRow & { secret: string }> {
  const checked = await checkWebhookUrl(url, services.webhookUrlPolicy);
  const db = services.database.db;
  const [registered] = await db
    .select({ n: count() })
    .from(webhookEndpoints)
    .where(eq(webhookEndpoints.userId, principal.userId));
  if ((registered?.n ?? 0) >= MAX_WEBHOOK_ENDPOINTS_PER_USER) {
    throw new ConflictError(
      "WEBHOOK_ENDPOINT_LIMIT_REACHED",
      `You have ${MAX_WEBHOOK_ENDPOINTS_PER_USER} webhook endpoints, the most one merchant may; delete one first`,
    );
  }
  const secret = newSecret();
  const [row] = await db
    .insert(webhookEndpoints)
    .values({ id: randomUUID(), userId: principal.userId, url: checked.toString(), secrets: [secret] })
    .returning();
  return { ...row!, secret };
}

/**
 * Changes an endpoint's URL (checked like a new one) and/or turns it off or on. A disabled endpoint
 * keeps its secret and log and receives nothing until enabled again.
 * @throws WEBHOOK_ENDPOINT_NOT_FOUND, WEBHOOK_URL_FORBIDDEN
 */
export async function updateWebhookEndpoint(
  services: Services,
  principal: Principal,
  id: string,
  change: { url?: string | undefined; enabled?: boolean | undefined },
): Promise<WebhookEndpointRow> {
  const endpoint = await loadWebhookEndpoint(services.database, principal, id, { write: true });
  const url =
    change.url === undefined ? undefined : (await checkWebhookUrl(change.url, services.webhookUrlPolicy)).toString();
  const [row] = await services.database.db
    .update(webhookEndpoints)
    .set({
      ...(url ? { url } : {}),
      ...(change.enabled === undefined ? {} : { enabled: change.enabled }),
      updatedAt: new Date(),
    })
    .where(eq(webhookEndpoints.id, endpoint.id))
    .returning();
  return row!;
}

/**
 * Starts signing with a new secret; the previous one keeps signing too until the next rotation.
 * @returns the endpoint and the new secret (shown only here)
 */
export async function rotateWebhookSecret(
  services: Services,
  principal: Principal,
  id: string,
): Promise<WebhookEndpointRow & { secret: string }> {
  const endpoint = await loadWebhookEndpoint(services.database, principal, id, { write: true });
  const secret = newSecret();
  const [row] = await services.database.db
    .update(webhookEndpoints)
    .set({ secrets: [secret, (endpoint.secrets as string[])[0]!], updatedAt: new Date() })
    .where(eq(webhookEndpoints.id, endpoint.id))
    .returning();
  return { ...row!, secret };
}

/**
 * Deletes an endpoint: nothing more is delivered to it (a queued delivery is dropped). Its delivery
 * log goes with it from the API's view.
 * @throws WEBHOOK_ENDPOINT_NOT_FOUND
 */
export async function deleteWebhookEndpoint(services: Services, principal: Principal, id: string): Promise<void> {
  const endpoint = await loadWebhookEndpoint(services.database, principal, id, { write: true });
  await services.database.db
    .delete(webhookEndpoints)
    .where(and(eq(webhookEndpoints.id, endpoint.id), eq(webhookEndpoints.userId, principal.userId)));
}
