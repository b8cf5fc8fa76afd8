import { createHash } from "node:crypto";

/**
 * Where a request came from, as the auth use cases record it (sessions, known devices, the audit
 * log): the client address Fastify resolved, the user agent, and the browser's own device id.
 */
export type RequestOrigin = { ip: string; userAgent: string | undefined; deviceId?: string | undefined };

/** The origin of a Fastify request; `deviceId` from the body where the route takes one. */
export function requestOriginOf(
  request: { ip: string; headers: Record<string, string | string[] | undefined> },
  deviceId?: string,
): RequestOrigin {
  const userAgent = request.headers["user-agent"];
  return { ip: request.ip, userAgent: typeof userAgent === "string" ? userAgent.slice(0, 512) : undefined, deviceId };
}

/**
 * The device a sign-in came from: the browser's random device id when it sent one, else its user
 * agent (a weaker signal: every browser of one build shares it). Hashed, so the id itself — a
 * bearer-like value in the browser's storage — is never kept.
 */
export function deviceHashOf(origin: RequestOrigin): string {
  const source = origin.deviceId ? `device:${origin.deviceId}` : `user-agent:${origin.userAgent ?? ""}`;
  return createHash("sha256").update(source).digest("hex");
}
