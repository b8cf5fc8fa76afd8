/**
 * Webhook signatures, as receivers check them. Each delivery carries
 *
 *     Stablerail-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]
 *
 * where each v1 is HMAC-SHA256(secret, `${t}.${rawBody}`) under one of the endpoint's active
 * secrets (two while a secret rotates). A receiver accepts when any v1 matches any of its secrets
 * and |now − t| ≤ 300 seconds (the tolerance window against replays); it deduplicates on the
 * body's `id` (the event id), because a delivery may be retried.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export const WEBHOOK_SIGNATURE_HEADER = "Stablerail-Signature";
/** Documented tolerance between the signature's timestamp and the receiver's clock. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

function hmac(secret: string, timestamp: number, body: string): string {
  return createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
}

/**
 * Builds the signature header for a body under every active secret.
 * @param body - the exact bytes sent (JSON text)
 * @param secrets - the endpoint's active secrets (newest first)
 * @param timestamp - unix seconds of sending
 */
export function signWebhookPayload(body: string, secrets: string[], timestamp: number): string {
  return [`t=${timestamp}`, ...secrets.map((secret) => `v1=${hmac(secret, timestamp, body)}`)].join(",");
}

/**
 * Verifies a `Stablerail-Signature` header — the function to copy into a receiver.
 * @param header - the header's value
 * @param body - the raw request body, exactly as received (not re-serialised JSON)
 * @param secrets - the secrets the receiver holds for this endpoint (old and new during a rotation)
 * @param now - the receiver's clock in unix seconds
 * @returns true when a v1 signature matches a secret and the timestamp is within 5 minutes
 * @example
 * if (!verifyWebhookSignature(req.headers["stablerail-signature"], rawBody, [secret], Math.floor(Date.now() / 1000))) return res.status(400);
 */
export function verifyWebhookSignature(
  header: string | undefined,
  body: string,
  secrets: string[],
  now: number,
): boolean {
  if (!header) return false;
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(",")) {
    const [key, value] = part.trim().split("=", 2);
    if (key === "t" && value && /^\d+$/.test(value)) timestamp = Number(value);
    else if (key === "v1" && value && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (timestamp === undefined || signatures.length === 0) return false;
  if (Math.abs(now - timestamp) > WEBHOOK_TOLERANCE_SECONDS) return false;
  for (const secret of secrets) {
    const expected = Buffer.from(hmac(secret, timestamp, body), "hex");
    if (signatures.some((signature) => timingSafeEqual(Buffer.from(signature, "hex"), expected))) return true;
  }
  return false;
}
