import { expect } from "chai";
import { eq } from "drizzle-orm";
import { generate } from "otplib";

import { totpFactors } from "../../../api/db/security-schema.ts";
import { createApiFixture, type ApiFixture } from "../helpers/api-fixture.ts";
import { PASSWORD, signIn, signUp } from "./helpers.ts";

/**
 * Issue 14, TOTP: enrol with an otpauth URI and QR, confirm with a first code, recovery codes hashed
 * and single-use, a code accepted once (replay refused) with one step of skew, disable only with a
 * fresh code, and the lockout after repeated wrong codes.
 */
describe("API TOTP second factor", () => {
  let api: ApiFixture;
  /** One instant per test: codes "now" and one step later stay valid whatever the clock does meanwhile. */
  let t0: number;
  const codeAt = (secret: string, ms: number) => generate({ secret, epoch: Math.floor(ms / 1000) });

  before(async () => {
    api = await createApiFixture("auth_totp", { env: { API_PASSWORD_SCRYPT_LOG2_N: "10" } });
  });
  after(async () => {
    await api.close();
  });
  beforeEach(() => {
    t0 = Date.now();
  });

  /** A user with TOTP confirmed by the code of t0; returns its secret and recovery codes. */
  const enrolled = async (label: string) => {
    const user = await signUp(api, label);
    const enrolment = await api.request("POST", "/v1/auth/totp", { key: user.token });
    expect(enrolment.status, JSON.stringify(enrolment.body)).to.equal(201);
    const secret = enrolment.body.secret as string;
    const confirmed = await api.request("POST", "/v1/auth/totp/confirm", {
      key: user.token,
      body: { code: await codeAt(secret, t0) },
    });
    expect(confirmed.status, JSON.stringify(confirmed.body)).to.equal(200);
    return { ...user, secret, recoveryCodes: confirmed.body.recoveryCodes as string[] };
  };
  const ticketOf = async (email: string) => {
    const answer = await signIn(api, email, PASSWORD);
    expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
    return answer.body.ticket as string;
  };
  const answer = (ticket: string, body: Record<string, unknown>) =>
    api.request("POST", "/v1/auth/sign-in/second-factor", { body: { ticket, ...body } });

  it("enrols with an otpauth URI and an SVG QR code, stores the seed encrypted, and enables only on a right first code", async () => {
    const user = await signUp(api, "tina");
    const enrolment = await api.request("POST", "/v1/auth/totp", { key: user.token });
    expect(enrolment.status).to.equal(201);
    expect(enrolment.body).to.include({ digits: 6, period: 30, algorithm: "SHA1" });
    const uri = decodeURIComponent(enrolment.body.otpauthUri);
    expect(uri).to.match(new RegExp(`^otpauth://totp/Stablerail:${user.email}\\?`));
    expect(uri).to.include(`secret=${enrolment.body.secret}`).and.include("issuer=Stablerail");
    expect(enrolment.body.qrSvg).to.match(/^<svg[\s\S]*<\/svg>$/);
    const [row] = await api.database.db.select().from(totpFactors).where(eq(totpFactors.userId, user.userId));
    expect(row!.status).to.equal("pending");
    expect(row!.secretCiphertext).to.not.include(enrolment.body.secret);

    const secret = enrolment.body.secret as string;
    const right = await codeAt(secret, t0);
    const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, "0");
    const refused = await api.request("POST", "/v1/auth/totp/confirm", { key: user.token, body: { code: wrong } });
    expect(refused.status).to.equal(422);
    expect(refused.body.error).to.deep.include({ code: "SECOND_FACTOR_INVALID" });
    expect((await api.request("GET", "/v1/auth/factors", { key: user.token })).body.totp.enabled).to.equal(false);

    const confirmed = await api.request("POST", "/v1/auth/totp/confirm", { key: user.token, body: { code: right } });
    expect(confirmed.status).to.equal(200);
    expect(confirmed.body.recoveryCodes).to.have.length(10);
    expect(new Set(confirmed.body.recoveryCodes).size).to.equal(10);
    for (const code of confirmed.body.recoveryCodes) expect(code).to.match(/^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$/);
    const factors = await api.request("GET", "/v1/auth/factors", { key: user.token });
    expect(factors.body.totp.enabled).to.equal(true);
    expect(factors.body.recoveryCodesRemaining).to.equal(10);
    const again = await api.request("POST", "/v1/auth/totp", { key: user.token });
    expect(again.status).to.equal(409);
    expect(again.body.error.code).to.equal("TOTP_ALREADY_ENABLED");
  });

  it("asks for the second factor at sign-in and accepts a code once: the same or an older code is reused, an old one expired, another wrong", async () => {
    const user = await enrolled("uma");
    const first = await signIn(api, user.email, PASSWORD);
    expect(first.status).to.equal(200);
    expect(first.body).to.include({ status: "second_factor_required", passkey: null });
    expect(first.body.factors).to.deep.equal(["totp", "recovery_code"]);
    expect(first.body.ticket).to.match(/^sr_ticket_/);

    // One step ahead of t0 (the skew window): accepted, and it moves the newest step accepted.
    const next = await codeAt(user.secret, t0 + 30_000);
    const signedIn = await answer(first.body.ticket, { totp: { code: next } });
    expect(signedIn.status, JSON.stringify(signedIn.body)).to.equal(201);
    expect(signedIn.body.user.id).to.equal(user.userId);

    const ticket = await ticketOf(user.email);
    const reasonOf = async (code: string) => {
      const refused = await answer(ticket, { totp: { code } });
      expect(refused.status, JSON.stringify(refused.body)).to.equal(422);
      expect(refused.body.error.code).to.equal("SECOND_FACTOR_INVALID");
      return refused.body.error.details.reason as string;
    };
    expect(await reasonOf(next)).to.equal("reused");
    expect(await reasonOf(await codeAt(user.secret, t0))).to.equal("reused");
    expect(await reasonOf(await codeAt(user.secret, t0 - 120_000))).to.equal("expired");
    const valid = new Set(await Promise.all([-1, 0, 1, 2].map((k) => codeAt(user.secret, t0 + k * 30_000))));
    const wrong = ["000000", "111111", "222222", "333333"].find((code) => !valid.has(code))!;
    expect(await reasonOf(wrong)).to.equal("wrong");
  });

  it("accepts each recovery code once, and the answer shows how many remain", async () => {
    const user = await enrolled("vic");
    const code = user.recoveryCodes[3]!;
    const used = await answer(await ticketOf(user.email), { recoveryCode: code.toUpperCase() });
    expect(used.status, JSON.stringify(used.body)).to.equal(201);
    const again = await answer(await ticketOf(user.email), { recoveryCode: code });
    expect(again.status).to.equal(422);
    expect(again.body.error.details).to.include({ reason: "reused", factor: "recovery_code" });
    const factors = await api.request("GET", "/v1/auth/factors", { key: used.body.session.token });
    expect(factors.body.recoveryCodesRemaining).to.equal(9);
  });

  it("ends a ticket after 5 wrong answers and locks the account: even the right password is then 429", async () => {
    const user = await enrolled("wes");
    const ticket = await ticketOf(user.email);
    for (let i = 0; i < 5; i += 1) {
      expect((await answer(ticket, { recoveryCode: "2222-2222-2222" })).status).to.equal(422);
    }
    const ended = await answer(ticket, { totp: { code: await codeAt(user.secret, t0 + 30_000) } });
    expect(ended.status).to.equal(401);
    expect(ended.body.error.code).to.equal("SIGN_IN_TICKET_INVALID");
    const locked = await signIn(api, user.email, PASSWORD);
    expect(locked.status).to.equal(429);
    expect(locked.body.error.details).to.include({ scope: "account" });
  });

  it("disables TOTP only with a fresh code; then sign-in needs the password alone and the recovery codes are gone", async () => {
    const user = await enrolled("xia");
    const reused = await api.request("POST", "/v1/auth/totp/disable", {
      key: user.token,
      body: { code: await codeAt(user.secret, t0) },
    });
    expect(reused.status).to.equal(422);
    expect(reused.body.error.details.reason).to.equal("reused");
    const fresh = await api.request("POST", "/v1/auth/totp/disable", {
      key: user.token,
      body: { code: await codeAt(user.secret, t0 + 30_000) },
    });
    expect(fresh.status, JSON.stringify(fresh.body)).to.equal(204);
    const factors = await api.request("GET", "/v1/auth/factors", { key: user.token });
    expect(factors.body).to.deep.include({ recoveryCodesRemaining: 0 });
    expect(factors.body.totp.enabled).to.equal(false);
    expect((await signIn(api, user.email, PASSWORD)).status).to.equal(201);
  });
});
