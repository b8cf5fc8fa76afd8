import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";

import { audited } from "../../../audit-log/index.ts";
import { signInWithPassword } from "../../../auth/passwords/sign-in.ts";
import { signUp } from "../../../auth/passwords/sign-up.ts";
import { signInSecondFactor } from "../../../auth/second-factor/sign-in-second-factor.ts";
import { requestOriginOf } from "../../../auth/request-origin.ts";
import {
  authErrors,
  deviceIdInput,
  emailInput,
  passwordInput,
  recoveryCodeInput,
  secondFactorRequired,
  signedIn,
  totpCodeInput,
  webauthnResponseInput,
} from "./schemas.ts";

/**
 * Custodial sign-up and sign-in with email + password (docs/design/auth.md, "Sign-up and sign-in").
 * Use cases: api/auth/passwords/.
 */
export const signInRoutes: FastifyPluginAsyncZod = async (app) => {
  const { services } = app;

  app.post(
    "/sign-up",
    {
      schema: {
        tags: ["auth"],
        summary: "Sign up with email + password; answers a session at once",
        security: [],
        body: z.object({
          email: emailInput,
          password: passwordInput,
          name: z.string().trim().min(1).max(100),
          deviceId: deviceIdInput.optional(),
        }),
        response: { 201: signedIn, ...authErrors },
      },
    },
    async (request, reply) => {
      const { email, password, name, deviceId } = request.body;
      const { user, session } = await audited(
        request,
        { action: "auth.sign_up", target: null },
        () => signUp(services, { email, password, name, origin: requestOriginOf(request, deviceId) }),
        (result) => ({
          actor: { userId: result.user.id, role: "user", credentialId: result.session.id },
          target: result.user.id,
        }),
      );
      return reply.header("cache-control", "no-store").status(201).send({ status: "signed_in", user, session });
    },
  );

  app.post(
    "/sign-in",
    {
      schema: {
        tags: ["auth"],
        summary: "Sign in with email + password: a session, or a ticket to answer with a second factor",
        security: [],
        body: z.object({ email: emailInput, password: passwordInput, deviceId: deviceIdInput.optional() }),
        response: { 200: secondFactorRequired, 201: signedIn, ...authErrors },
      },
    },
    async (request, reply) => {
      const { email, password, deviceId } = request.body;
      const result = await audited(
        request,
        { action: "auth.sign_in", target: email.toLowerCase() },
        () => signInWithPassword(services, { email, password, origin: requestOriginOf(request, deviceId) }),
        (outcome) =>
          outcome.status === "signed_in"
            ? {
                actor: { userId: outcome.user.id, role: "user", credentialId: outcome.session.id },
                target: outcome.user.id,
                details: { method: "password" },
              }
            : { details: { method: "password", secondFactorRequired: true } },
      );
      return reply
        .header("cache-control", "no-store")
        .status(result.status === "signed_in" ? 201 : 200)
        .send(result);
    },
  );

  app.post(
    "/sign-in/second-factor",
    {
      schema: {
        tags: ["auth"],
        summary: "Finish a sign-in with the ticket and one second factor: a TOTP code, a recovery code or a passkey",
        description: "The ticket lives 5 minutes and allows 5 wrong answers; the account lockout counts each too.",
        security: [],
        body: z.object({
          ticket: z.string().regex(/^sr_ticket_[A-Za-z0-9_-]{43}$/, "must be a sign-in ticket"),
          totp: z.object({ code: totpCodeInput }).optional(),
          recoveryCode: recoveryCodeInput.optional(),
          passkey: z.object({ response: webauthnResponseInput }).optional(),
        }),
        response: { 201: signedIn, ...authErrors },
      },
    },
    async (request, reply) => {
      const { ticket, ...answer } = request.body;
      const factor = answer.totp ? "totp" : answer.passkey ? "passkey" : "recovery_code";
      const result = await audited(
        request,
        { action: "auth.sign_in.second_factor" },
        () => signInSecondFactor(services, { ticket, answer, origin: requestOriginOf(request) }),
        (outcome) => ({
          actor: { userId: outcome.user.id, role: "user", credentialId: outcome.session.id },
          target: outcome.user.id,
          details: { factor },
        }),
      );
      return reply.header("cache-control", "no-store").status(201).send(result);
    },
  );
};
