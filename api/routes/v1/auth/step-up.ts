import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";

import { audited } from "../../../audit-log/index.ts";
import { roles } from "../../../auth/credentials.ts";
import { enrolledFactors } from "../../../auth/factors.ts";
import { requireSecurityStepUp, STEP_UP_HEADER } from "../../../auth/step-up/require-security-step-up.ts";
import { approveStepUpChallenge } from "../../../auth/step-up/step-up-challenges.ts";
import { replaceRecoveryCodes } from "../../../auth/totp/recovery-codes.ts";
import { ConflictError } from "../../../errors/api-errors.ts";
import { authErrors, recoveryCodeInput, totpCodeInput, webauthnResponseInput } from "./schemas.ts";

const stepUpHeader = z.object({ [STEP_UP_HEADER]: z.string().max(200).optional() }).loose();

/**
 * Step-up approvals (docs/design/auth.md, "Step-up") and the security settings that need one.
 * Use cases: api/auth/step-up/.
 */
export const stepUpRoutes: FastifyPluginAsyncZod = async (app) => {
  const { services } = app;

  app.post(
    "/step-up",
    {
      config: { roles },
      schema: {
        tags: ["auth"],
        summary: "Approve a step-up challenge with one second factor; the approval token moves that one request, once",
        body: z.object({
          challengeId: z.uuid(),
          totp: z.object({ code: totpCodeInput }).optional(),
          recoveryCode: recoveryCodeInput.optional(),
          passkey: z.object({ response: webauthnResponseInput }).optional(),
        }),
        response: {
          201: z.object({
            approval: z.object({
              token: z.string(),
              challengeId: z.string(),
              digest: z.string(),
              purpose: z.string(),
              factor: z.string(),
              expiresAt: z.date(),
            }),
          }),
          ...authErrors,
        },
      },
    },
    async (request, reply) => {
      const { challengeId, ...answer } = request.body;
      const approval = await audited(
        request,
        { action: "auth.step_up.approve", target: challengeId },
        () =>
          approveStepUpChallenge(services, { userId: request.principal!.userId, challengeId, answer, ip: request.ip }),
        (approved) => ({ details: { factor: approved.factor, purpose: approved.purpose, digest: approved.digest } }),
      );
      return reply.header("cache-control", "no-store").status(201).send({ approval });
    },
  );

  app.post(
    "/recovery-codes",
    {
      config: { roles },
      schema: {
        tags: ["auth"],
        summary: "New recovery codes (step-up): the previous ones stop working",
        headers: stepUpHeader,
        response: { 201: z.object({ recoveryCodes: z.array(z.string()) }), ...authErrors },
      },
    },
    async (request, reply) => {
      const { userId } = request.principal!;
      const factors = await enrolledFactors(services.database, userId);
      if (!factors.totp && factors.passkeys === 0) {
        throw new ConflictError(
          "SECOND_FACTOR_NOT_ENROLLED",
          "Recovery codes recover a second factor: enrol one first",
        );
      }
      const recoveryCodes = await audited(
        request,
        { action: "auth.recovery_codes.regenerate", target: userId },
        async () => {
          await requireSecurityStepUp(services, {
            userId,
            action: "regenerate_recovery_codes",
            target: null,
            token: request.headers[STEP_UP_HEADER] as string | undefined,
          });
          return replaceRecoveryCodes(services.database.db, userId);
        },
      );
      return reply.header("cache-control", "no-store").status(201).send({ recoveryCodes });
    },
  );
};
