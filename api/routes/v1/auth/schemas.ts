import { z } from "zod";

import { errorResponse } from "../../../schemas/common.ts";
import { PASSWORD_MAX_LENGTH } from "../../../auth/passwords/password-hash.ts";

/** Schemas of the sign-up, sign-in, factor and step-up routes (docs/design/auth.md). */

export const emailInput = z
  .string()
  .trim()
  .max(254)
  .pipe(z.email({ message: "must be an email address" }));
/** Length beyond the maximum is a validation error; the minimum is the use case's PASSWORD_TOO_SHORT. */
export const passwordInput = z.string().max(PASSWORD_MAX_LENGTH);
export const deviceIdInput = z
  .string()
  .regex(/^[A-Za-z0-9_-]{8,128}$/, "must be 8-128 characters of A-Za-z0-9_-")
  .describe("a random id the browser generates once and keeps in localStorage");
export const totpCodeInput = z.string().regex(/^\d{6}$/, "must be 6 digits");
export const recoveryCodeInput = z
  .string()
  .regex(/^[a-z0-9]{4}-?[a-z0-9]{4}-?[a-z0-9]{4}$/i, "must be a recovery code, xxxx-xxxx-xxxx");
/** A WebAuthn response as @simplewebauthn/browser returns it; @simplewebauthn/server checks its inside. */
export const webauthnResponseInput = z
  .object({
    id: z.string().max(1024),
    rawId: z.string().max(1024),
    type: z.literal("public-key"),
    response: z.record(z.string(), z.unknown()),
    clientExtensionResults: z.record(z.string(), z.unknown()).optional().default({}),
    authenticatorAttachment: z.string().optional(),
  })
  .loose();

export const accountView = z.object({
  id: z.string(),
  role: z.literal("user"),
  name: z.string(),
  email: z.string().nullable(),
  tier: z.string(),
  frozen: z.boolean(),
  createdAt: z.date(),
});
export const openedSession = z.object({ id: z.string(), token: z.string(), expiresAt: z.date() });
export const signedIn = z.object({ status: z.literal("signed_in"), user: accountView, session: openedSession });
export const secondFactorRequired = z.object({
  status: z.literal("second_factor_required"),
  ticket: z.string(),
  expiresAt: z.date(),
  factors: z.array(z.enum(["totp", "passkey", "recovery_code"])),
  passkey: z.object({ options: z.unknown() }).nullable(),
});

export const authErrors = {
  400: errorResponse,
  401: errorResponse,
  403: errorResponse,
  404: errorResponse,
  409: errorResponse,
  422: errorResponse,
  429: errorResponse,
};
