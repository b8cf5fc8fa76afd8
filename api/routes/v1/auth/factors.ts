import { eq } from "drizzle-orm";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";

import { audited } from "../../../audit-log/index.ts";
import { roles } from "../../../auth/credentials.ts";
import { enrolledFactors } from "../../../auth/factors.ts";
import { listPasskeys } from "../../../auth/passkeys/passkey-credentials.ts";
import { reserveAttempt } from "../../../auth/lockout/auth-lockout.ts";
import { verifySecondFactor } from "../../../auth/second-factor/verify-second-factor.ts";
import { confirmTotp, enrolTotp } from "../../../auth/totp/totp-factor.ts";
import { totpSecretBox } from "../../../auth/totp/totp-secret-box.ts";
import { apiUsers } from "../../../db/schema.ts";
import { passwordCredentials, recoveryCodes, totpFactors } from "../../../db/security-schema.ts";
import { authErrors, recoveryCodeInput, totpCodeInput } from "./schemas.ts";

/**
 * A signed-in user's second factors: the overview, TOTP enrolment, confirmation and disabling
 * (docs/design/auth.md, "Factors"). Use cases: api/auth/totp/, api/auth/second-factor/.
 */
export const factorRoutes: FastifyPluginAsyncZod = async (app) => {
  const { services } = app;
  const totpDeps = () => ({ database: services.database, totpSecrets: totpSecretBox(services.totpSecretKey) });

  app.get(
    "/factors",
    {
      config: { roles },
      schema: {
        tags: ["auth"],
        summary: "Your second factors: TOTP, passkeys, recovery codes left",
        response: {
          200: z.object({
            totp: z.object({ enabled: z.boolean(), confirmedAt: z.date().nullable() }),
            passkeys: z.array(z.unknown()),
            recoveryCodesRemaining: z.number(),
          }),
          ...authErrors,
        },
      },
    },
    async (request) => {
      const { userId } = request.principal!;
      const factors = await enrolledFactors(services.database, userId);
      const confirmedAt = factors.totp ? await totpConfirmedAt(userId) : null;
      return {
        totp: { enabled: factors.totp, confirmedAt },
        passkeys: await listPasskeys(services.database, userId),
        recoveryCodesRemaining: factors.recoveryCodesRemaining,
      };
    },
  );

  const totpConfirmedAt = async (userId: string) => {
    const [row] = await services.database.db
      .select({ confirmedAt: totpFactors.confirmedAt })
      .from(totpFactors)
      .where(eq(totpFactors.userId, userId));
    return row?.confirmedAt ?? null;
  };

  app.post(
    "/totp",
    {
      config: { roles },
      schema: {
        tags: ["auth"],
        summary: "Start a TOTP enrolment: the secret, its otpauth URI and QR code (pending 10 minutes)",
        response: {
          201: z.object({
            secret: z.string(),
            otpauthUri: z.string(),
            qrSvg: z.string(),
            digits: z.literal(6),
            period: z.literal(30),
            algorithm: z.literal("SHA1"),
            expiresAt: z.date(),
          }),
          ...authErrors,
        },
      },
    },
    async (request, reply) => {
      const { userId } = request.principal!;
      const [user] = await services.database.db
        .select({ name: apiUsers.name, email: passwordCredentials.email })
        .from(apiUsers)
        .leftJoin(passwordCredentials, eq(passwordCredentials.userId, apiUsers.id))
        .where(eq(apiUsers.id, userId));
      const enrolment = await audited(request, { action: "auth.totp.enrol", target: userId }, () =>
        enrolTotp(totpDeps(), { userId, accountName: user?.email ?? user?.name ?? userId }),
      );
      return reply.header("cache-control", "no-store").status(201).send(enrolment);
    },
  );

  app.post(
    "/totp/confirm",
    {
      config: { roles },
      schema: {
        tags: ["auth"],
        summary: "Confirm the pending enrolment with a first code: TOTP is enabled; 10 recovery codes shown once",
        body: z.object({ code: totpCodeInput }),
        response: { 200: z.object({ enabled: z.literal(true), recoveryCodes: z.array(z.string()) }), ...authErrors },
      },
    },
    async (request, reply) => {
      const { userId } = request.principal!;
      const codes = await audited(request, { action: "auth.totp.confirm", target: userId }, async () => {
        const attempt = await reserveAttempt(services, { account: userId, ip: request.ip });
        const issued = await confirmTotp(totpDeps(), { userId, code: request.body.code });
        await attempt.succeeded();
        return issued;
      });
      return reply.header("cache-control", "no-store").send({ enabled: true as const, recoveryCodes: codes });
    },
  );

  app.post(
    "/totp/disable",
    {
      config: { roles },
      schema: {
        tags: ["auth"],
        summary: "Disable TOTP with a fresh code (or a recovery code); the recovery codes go with it",
        body: z.union([
          z.object({ code: totpCodeInput }).strict(),
          z.object({ recoveryCode: recoveryCodeInput }).strict(),
        ]),
        response: { 204: z.null(), ...authErrors },
      },
    },
    async (request, reply) => {
      const { userId } = request.principal!;
      const body = request.body;
      await audited(request, { action: "auth.totp.disable", target: userId }, async () => {
        await verifySecondFactor(services, {
          userId,
          answer: "code" in body ? { totp: { code: body.code } } : { recoveryCode: body.recoveryCode },
          ip: request.ip,
          passkeyChallenge: null,
        });
        await services.database.db.transaction(async (tx) => {
          await tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId));
          await tx.delete(totpFactors).where(eq(totpFactors.userId, userId));
        });
      });
      return reply.status(204).send(null);
    },
  );
};
