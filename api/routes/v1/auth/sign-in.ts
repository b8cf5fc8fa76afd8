import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";

import { signInWithPassword } from "../../../auth/passwords/sign-in.ts";
import { signUp } from "../../../auth/passwords/sign-up.ts";
import { requestOriginOf } from "../../../auth/request-origin.ts";
import { authErrors, deviceIdInput, emailInput, passwordInput, secondFactorRequired, signedIn } from "./schemas.ts";

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
      const { user, session } = await signUp(services, {
        email,
        password,
        name,
        origin: requestOriginOf(request, deviceId),
      });
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
      const result = await signInWithPassword(services, {
        email,
        password,
        origin: requestOriginOf(request, deviceId),
      });
      return reply
        .header("cache-control", "no-store")
        .status(result.status === "signed_in" ? 201 : 200)
        .send(result);
    },
  );
};
