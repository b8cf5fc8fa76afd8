import type { FastifyRequest } from "fastify";

import { appendAuditEntry, type AuditActor } from "./append-audit-entry.ts";

type Described = { actor?: AuditActor; target?: string | null; details?: Record<string, unknown> };

/**
 * Runs a route's action and appends its outcome to the audit log: success (after the action, so a
 * failed append fails the request — an unaudited privileged action must not pass), or failure with
 * the error's code (appended best-effort, and the action's own error is what the caller sees).
 * @param request - who (its principal, unless `describe` names the actor), from where (IP, user agent)
 * @param spec - the action, and the target known before it runs
 * @param run - the action
 * @param describe - what the result adds (the target created, the user who signed in, details)
 */
export async function audited<T>(
  request: FastifyRequest,
  spec: { action: string; target?: string | null; actor?: AuditActor },
  run: () => Promise<T>,
  describe?: (result: T) => Described,
): Promise<T> {
  const { principal } = request;
  const database = request.server.services.database;
  const userAgent = request.headers["user-agent"];
  const base = {
    action: spec.action,
    ip: request.ip,
    userAgent: typeof userAgent === "string" ? userAgent.slice(0, 512) : null,
  };
  const actor: AuditActor =
    spec.actor !== undefined
      ? spec.actor
      : principal
        ? { userId: principal.userId, role: principal.role, credentialId: principal.credentialId }
        : null;
  let result: T;
  try {
    result = await run();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    await appendAuditEntry(database, {
      ...base,
      actor,
      target: spec.target ?? null,
      outcome: "failure",
      details: { code: typeof code === "string" ? code : "INTERNAL" },
    }).catch((appendError: unknown) =>
      request.log.error({ err: appendError }, "audit log: a failure could not be recorded"),
    );
    throw error;
  }
  const described = describe?.(result) ?? {};
  await appendAuditEntry(database, {
    ...base,
    actor: described.actor !== undefined ? described.actor : actor,
    target: described.target !== undefined ? described.target : (spec.target ?? null),
    outcome: "success",
    details: described.details,
  });
  return result;
}
