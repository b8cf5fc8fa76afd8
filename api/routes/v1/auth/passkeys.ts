import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";

import { audited } from "../../../audit-log/index.ts";
import { roles } from "../../../auth/credentials.ts";
import { reserveAttempt, unknownEmailAccount } from "../../../auth/lockout/auth-lockout.ts";
import {
  listPasskeys,
  passkeyRegistrationOptions,
  passkeySignInOptions,
  registerPasskey,
  removePasskey,
  verifyPasskeySignIn,
} from "../../../auth/passkeys/passkey-credentials.ts";
import { completeSignIn } from "../../../auth/passwords/sign-in.ts";
import { requestOriginOf } from "../../../auth/request-origin.ts";
import { requireSecurityStepUp, STEP_UP_HEADER } from "../../../auth/step-up/require-security-step-up.ts";
import { authErrors, deviceIdInput, signedIn, webauthnResponseInput } from "./schemas.ts";

const passkey = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: z.date(),
  lastUsedAt: z.date().nullable(),
  backedUp: z.boolean(),
  transports: z.array(z.string()),
});
const optionsAnswer = z.object({ challengeId: z.string(), options: z.unknown(), expiresAt: z.date() });
const stepUpHeader = z.object({ [STEP_UP_HEADER]: z.string().max(200).optional() }).loose();

/**
 * Passkeys (docs/design/auth.md): register (step-up when a factor exists), list, remove (step-up),
 * and sign in with one alone. Use cases: api/auth/passkeys/.
 */
export const passkeyRoutes: FastifyPluginAsyncZod = async (app) => {
  const { services } = app;
  const stepUpToken = (request: { headers: Record<string, unknown> }) =>
    request.headers[STEP_UP_HEADER] as string | undefined;

  app.post(
    "/passkeys/registration-options",
    {
      config: { roles },
      schema: {
        tags: ["auth"],
        summary: "Options to register a passkey (pass to startRegistration); needs a step-up once you have a factor",
        headers: stepUpHeader,
        response: { 200: optionsAnswer, ...authErrors },
      },
    },
    async (request) => {
      const { userId } = request.principal!;
      await requireSecurityStepUp(services, {
        userId,
        action: "add_passkey",
        target: null,
        token: stepUpToken(request),
      });
      return passkeyRegistrationOptions(services, userId);
    },
  );

  app.post(
    "/passkeys",
    {
      config: { roles },
      schema: {
        tags: ["auth"],
        summary: "Register a passkey with the result of startRegistration",
        body: z.object({
          challengeId: z.uuid(),
          response: webauthnResponseInput,
          name: z.string().trim().min(1).max(100).optional(),
        }),
        response: { 201: passkey, ...authErrors },
      },
    },
    async (request, reply) => {
      const { userId } = request.principal!;
      const created = await audited(
        request,
        { action: "auth.passkey.add", target: null },
        () => registerPasskey(services, { userId, ...request.body }),
        (view) => ({ target: view.id }),
      );
      return reply.status(201).send(created);
    },
  );

  app.get(
    "/passkeys",
    {
      config: { roles },
      schema: {
        tags: ["auth"],
        summary: "Your passkeys",
        response: { 200: z.object({ items: z.array(passkey) }), ...authErrors },
      },
    },
    async (request) => ({ items: await listPasskeys(services.database, request.principal!.userId) }),
  );

  app.delete(
    "/passkeys/:passkeyId",
    {
      config: { roles },
      schema: {
        tags: ["auth"],
        summary: "Remove one of your passkeys (step-up)",
        headers: stepUpHeader,
        params: z.object({ passkeyId: z.string().regex(/^[A-Za-z0-9_-]{1,1024}$/) }),
        response: { 204: z.null(), ...authErrors },
      },
    },
    async (request, reply) => {
      const { userId } = request.principal!;
      const { passkeyId } = request.params;
      await audited(request, { action: "auth.passkey.remove", target: passkeyId }, async () => {
        await requireSecurityStepUp(services, {
          userId,
          action: "remove_passkey",
          target: passkeyId,
          token: stepUpToken(request),
        });
        await removePasskey(services.database, userId, passkeyId);
      });
      return reply.status(204).send(null);
    },
  );

  app.post(
    "/passkeys/sign-in-options",
    {
      schema: {
        tags: ["auth"],
        summary: "Options to sign in with a passkey alone (discoverable: no email)",
        security: [],
        response: { 200: optionsAnswer, ...authErrors },
      },
    },
    async () => passkeySignInOptions(services),
  );

  app.post(
    "/passkeys/sign-in",
    {
      schema: {
        tags: ["auth"],
        summary: "Sign in with the result of startAuthentication",
        security: [],
        body: z.object({ challengeId: z.uuid(), response: webauthnResponseInput, deviceId: deviceIdInput.optional() }),
        response: { 201: signedIn, ...authErrors },
      },
    },
    async (request, reply) => {
      const { challengeId, response, deviceId } = request.body;
      const result = await audited(
        request,
        { action: "auth.sign_in", target: null },
        async () => {
          // Counted per passkey (the credential the response names, registered or not) and per address.
          const attempt = await reserveAttempt(services, {
            account: unknownEmailAccount(`passkey:${response.id}`),
            ip: request.ip,
          });
          const verified = await verifyPasskeySignIn(services, { challengeId, response });
          await attempt.succeeded();
          return completeSignIn(services, {
            userId: verified.userId,
            method: "passkey",
            origin: requestOriginOf(request, deviceId),
          });
        },
        (outcome) => ({
          actor: { userId: outcome.user.id, role: "user", credentialId: outcome.session.id },
          target: outcome.user.id,
          details: { method: "passkey" },
        }),
      );
      return reply.header("cache-control", "no-store").status(201).send(result);
    },
  );
};
