import { expect } from "chai";

import type { ApiFixture } from "../helpers/api-fixture.ts";

/** Fixtures of the auth tests, built through the public routes only. */

export const PASSWORD = "correct horse battery";

let counter = 0;
/** A fresh email per call (tests share one database). */
export const newEmail = (label = "user") => `${label}-${Date.now().toString(36)}-${(counter += 1)}@example.com`;

export type SignedUp = { userId: string; email: string; token: string };

/** Signs a user up through POST /v1/auth/sign-up. */
export async function signUp(api: ApiFixture, label = "user", extra: { remoteAddress?: string } = {}) {
  const email = newEmail(label);
  const response = await api.request("POST", "/v1/auth/sign-up", {
    body: { email, password: PASSWORD, name: label },
    ...extra,
  });
  expect(response.status, JSON.stringify(response.body)).to.equal(201);
  return { userId: response.body.user.id as string, email, token: response.body.session.token as string };
}

/** POST /v1/auth/sign-in. */
export const signIn = (
  api: ApiFixture,
  email: string,
  password: string,
  extra: { remoteAddress?: string; deviceId?: string } = {},
) =>
  api.request("POST", "/v1/auth/sign-in", {
    body: { email, password, ...(extra.deviceId ? { deviceId: extra.deviceId } : {}) },
    ...(extra.remoteAddress ? { remoteAddress: extra.remoteAddress } : {}),
  });
