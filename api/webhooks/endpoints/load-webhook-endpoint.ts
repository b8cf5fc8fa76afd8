import { eq } from "drizzle-orm";

import type { Database } from "../../../lib/db/database.ts";
import { NotFoundError } from "../../../lib/errors/base.ts";
import { assertOwner } from "../../auth/access.ts";
import type { Principal } from "../../auth/principal.ts";
import { webhookEndpoints } from "../../db/schema.ts";

export type WebhookEndpointRow = typeof webhookEndpoints.$inferSelect;

/**
 * Loads an endpoint `principal` may see (its merchant, or staff reading) — or, with `write`, change
 * (its merchant only). Anyone else gets 404, whether or not it exists.
 * @throws NotFoundError WEBHOOK_ENDPOINT_NOT_FOUND
 */
export async function loadWebhookEndpoint(
  database: Database,
  principal: Principal | undefined,
  id: string,
  { write = false } = {},
): Promise<WebhookEndpointRow> {
  const [endpoint] = await database.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id));
  const notFound = () => new NotFoundError("WEBHOOK_ENDPOINT_NOT_FOUND", "No such webhook endpoint");
  if (!endpoint) throw notFound();
  try {
    assertOwner(principal, endpoint.userId, { write });
  } catch (error) {
    if (error instanceof NotFoundError) throw notFound();
    throw error;
  }
  if (write && principal?.userId !== endpoint.userId) throw notFound();
  return endpoint;
}
