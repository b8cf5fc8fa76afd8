/**
 * Who may call a route, checked for every route after the caller is identified (plugins/auth.ts)
 * and counted (plugins/rate-limit.ts):
 * - a credential that was sent but did not authenticate → 401 UNAUTHENTICATED;
 * - a route's `config.roles` → 401 without a credential, 403 FORBIDDEN for another role;
 * - a frozen principal may read and revoke its own credentials (`config.allowFrozen`), nothing
 *   else: every other write is 403 ACCOUNT_FROZEN (the money door checks the freeze again).
 * Ownership of the resource is then checked by the use case (api/auth/access.ts assertOwner).
 */
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";

import { AuthenticationError, PermissionError } from "../errors/api-errors.ts";

const READS = new Set(["GET", "HEAD", "OPTIONS"]);

export const accessPlugin = fp(
  async (app: FastifyInstance) => {
    app.addHook("onRequest", async (request) => {
      if (request.credentialRejected)
        throw new AuthenticationError("UNAUTHENTICATED", "The credential is unknown, revoked or expired");
      const { roles, allowFrozen } = request.routeOptions.config;
      const { principal } = request;
      if (roles) {
        if (!principal)
          throw new AuthenticationError("UNAUTHENTICATED", "Send Authorization: Bearer <API key or session token>");
        if (!roles.includes(principal.role)) {
          throw new PermissionError(
            "FORBIDDEN",
            `This route is for ${roles.join(", ")}; your credential has role ${principal.role}`,
          );
        }
      }
      if (principal?.frozen && !READS.has(request.method) && !allowFrozen) {
        throw new PermissionError(
          "ACCOUNT_FROZEN",
          "This account is frozen: it may read and revoke its own credentials only; contact support",
        );
      }
    });
  },
  { name: "access", dependencies: ["auth", "rate-limit"] },
);
