import { expect } from "chai";
import { eq } from "drizzle-orm";

import { passwordCredentials } from "../../../api/db/security-schema.ts";
import { apiUsers } from "../../../api/db/schema.ts";
import { ADMIN_KEY, createApiFixture, type ApiFixture } from "../helpers/api-fixture.ts";
import { newEmail, PASSWORD, signIn, signUp } from "./helpers.ts";

/**
 * Issue 14, custodial accounts: sign-up and sign-in with email + password (scrypt), sessions that
 * record their device, frozen users refused, and the per-account / per-address lockout counted in Redis.
 */
describe("API custodial sign-up and sign-in", () => {
  let api: ApiFixture;

  before(async () => {
    // A low scrypt cost keeps the suite fast; one test below checks the default cost on its own app.
    api = await createApiFixture("auth_sign_in", { env: { API_PASSWORD_SCRYPT_LOG2_N: "10" } });
  });
  after(async () => {
    await api.close();
  });

  describe("POST /v1/auth/sign-up", () => {
    it("creates a user with a scrypt hash and answers a session that authenticates, with its device recorded", async () => {
      const email = newEmail("ada");
      const response = await api.request("POST", "/v1/auth/sign-up", {
        body: { email: ` ${email.toUpperCase()} `, password: PASSWORD, name: "Ada", deviceId: "device-ada-0001" },
        headers: { "user-agent": "test-browser/1.0" },
      });
      expect(response.status, JSON.stringify(response.body)).to.equal(201);
      expect(response.body.status).to.equal("signed_in");
      expect(response.body.user).to.include({ role: "user", name: "Ada", email, tier: "basic", frozen: false });
      expect(response.body.session.token).to.match(/^sr_sess_/);
      const me = await api.request("GET", "/v1/users/me", { key: response.body.session.token });
      expect(me.status).to.equal(200);
      const [stored] = await api.database.db
        .select()
        .from(passwordCredentials)
        .where(eq(passwordCredentials.userId, response.body.user.id));
      expect(stored!.passwordHash)
        .to.match(/^scrypt\$10\$8\$1\$/)
        .and.not.include(PASSWORD);
      const sessions = await api.request("GET", "/v1/auth/sessions", { key: response.body.session.token });
      expect(sessions.body.items).to.have.length(1);
      expect(sessions.body.items[0]).to.include({ kind: "password", ip: "127.0.0.1", userAgent: "test-browser/1.0" });
    });

    it("hashes with N = 2^17, r = 8, p = 1 by default (OWASP's minimum), and old hashes keep verifying", async () => {
      const defaultCost = await api.buildAnotherApp({ API_PASSWORD_SCRYPT_LOG2_N: "17" });
      const email = newEmail("cost");
      const response = await api.request("POST", "/v1/auth/sign-up", {
        body: { email, password: PASSWORD, name: "cost" },
        via: defaultCost,
      });
      expect(response.status).to.equal(201);
      const [stored] = await api.database.db
        .select()
        .from(passwordCredentials)
        .where(eq(passwordCredentials.userId, response.body.user.id));
      expect(stored!.passwordHash).to.match(/^scrypt\$17\$8\$1\$/);
      // The low-cost app verifies the high-cost hash with the parameters stored beside it.
      expect((await signIn(api, email, PASSWORD)).status).to.equal(201);
    });

    it("refuses a registered email (in any case) with 409 EMAIL_ALREADY_REGISTERED", async () => {
      const user = await signUp(api, "dup");
      const response = await api.request("POST", "/v1/auth/sign-up", {
        body: { email: user.email.toUpperCase(), password: PASSWORD, name: "dup again" },
      });
      expect(response.status).to.equal(409);
      expect(response.body.error.code).to.equal("EMAIL_ALREADY_REGISTERED");
    });

    it("refuses a password under 10 characters with 400 PASSWORD_TOO_SHORT and creates nothing", async () => {
      const before = (await api.database.db.select().from(apiUsers)).length;
      const response = await api.request("POST", "/v1/auth/sign-up", {
        body: { email: newEmail("short"), password: "123456789", name: "short" },
      });
      expect(response.status).to.equal(400);
      expect(response.body.error.code).to.equal("PASSWORD_TOO_SHORT");
      expect((await api.database.db.select().from(apiUsers)).length).to.equal(before);
      const long = await api.request("POST", "/v1/auth/sign-up", {
        body: { email: newEmail("long"), password: "x".repeat(201), name: "long" },
      });
      expect(long.status).to.equal(400);
      expect(long.body.error.code).to.equal("VALIDATION_FAILED");
    });
  });

  describe("POST /v1/auth/sign-in", () => {
    it("opens a session for the right password and answers one INVALID_CREDENTIALS for a wrong password or an unknown email", async () => {
      const user = await signUp(api, "bea");
      const right = await signIn(api, user.email, PASSWORD);
      expect(right.status, JSON.stringify(right.body)).to.equal(201);
      expect(right.body.user.id).to.equal(user.userId);
      expect((await api.request("GET", "/v1/users/me", { key: right.body.session.token })).status).to.equal(200);
      const wrong = await signIn(api, user.email, "not the password");
      const unknown = await signIn(api, newEmail("nobody"), PASSWORD);
      expect(wrong.status).to.equal(401);
      expect(unknown.status).to.equal(401);
      expect(wrong.body).to.deep.equal(unknown.body);
      expect(wrong.body.error.code).to.equal("INVALID_CREDENTIALS");
    });

    it("locks an account after 5 failures: every attempt, even the right password from another address, is 429 with Retry-After", async () => {
      const user = await signUp(api, "cleo");
      for (let i = 0; i < 5; i += 1) {
        expect((await signIn(api, user.email, `wrong password ${i}`)).status).to.equal(401);
      }
      for (const remoteAddress of ["127.0.0.1", "203.0.113.9"]) {
        const locked = await signIn(api, user.email, PASSWORD, { remoteAddress });
        expect(locked.status).to.equal(429);
        expect(locked.body.error.code).to.equal("TOO_MANY_ATTEMPTS");
        expect(locked.body.error.details).to.include({ scope: "account" });
        expect(locked.body.error.details.retryAfterSeconds).to.be.within(1, 900);
        expect(locked.headers["retry-after"]).to.equal(String(locked.body.error.details.retryAfterSeconds));
      }
    });

    it("counts a burst of parallel guesses before checking them: at most 5 are checked", async () => {
      const user = await signUp(api, "dora");
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => signIn(api, user.email, `parallel guess ${i}`)),
      );
      const statuses = answers.map((answer) => answer.status);
      expect(statuses.filter((status) => status === 401)).to.have.length(5);
      expect(statuses.filter((status) => status === 429)).to.have.length(15);
    });

    it("resets an account's count on a success", async () => {
      const user = await signUp(api, "eve");
      for (let i = 0; i < 4; i += 1) expect((await signIn(api, user.email, "wrong wrong")).status).to.equal(401);
      expect((await signIn(api, user.email, PASSWORD)).status).to.equal(201);
      for (let i = 0; i < 4; i += 1) expect((await signIn(api, user.email, "wrong wrong")).status).to.equal(401);
      expect((await signIn(api, user.email, PASSWORD)).status).to.equal(201);
    });

    it("locks a client address past API_AUTH_MAX_FAILURES_PER_IP failures across accounts; other addresses go on", async () => {
      const strict = await api.buildAnotherApp({ API_PASSWORD_SCRYPT_LOG2_N: "10", API_AUTH_MAX_FAILURES_PER_IP: "3" });
      const remoteAddress = "198.51.100.7";
      const victims = [await signUp(api, "f1"), await signUp(api, "f2"), await signUp(api, "f3")];
      for (const victim of victims) {
        const answer = await api.request("POST", "/v1/auth/sign-in", {
          body: { email: victim.email, password: "guess guess" },
          remoteAddress,
          via: strict,
        });
        expect(answer.status).to.equal(401);
      }
      const locked = await api.request("POST", "/v1/auth/sign-in", {
        body: { email: victims[0]!.email, password: PASSWORD },
        remoteAddress,
        via: strict,
      });
      expect(locked.status).to.equal(429);
      expect(locked.body.error.details).to.include({ scope: "address" });
      const elsewhere = await api.request("POST", "/v1/auth/sign-in", {
        body: { email: victims[0]!.email, password: PASSWORD },
        remoteAddress: "198.51.100.8",
        via: strict,
      });
      expect(elsewhere.status).to.equal(201);
    });

    it("refuses a frozen user a session (403 ACCOUNT_FROZEN), and a frozen user's session cannot create keys or sessions", async () => {
      const user = await signUp(api, "gus");
      const freeze = await api.request("POST", `/v1/users/${user.userId}/freeze`, {
        key: ADMIN_KEY,
        body: { frozen: true },
      });
      expect(freeze.status, JSON.stringify(freeze.body)).to.equal(200);
      const refused = await signIn(api, user.email, PASSWORD);
      expect(refused.status).to.equal(403);
      expect(refused.body.error.code).to.equal("ACCOUNT_FROZEN");
      for (const url of ["/v1/api-keys", "/v1/auth/sessions"]) {
        const answer = await api.request("POST", url, { key: user.token });
        expect(answer.status, url).to.equal(403);
        expect(answer.body.error.code).to.equal("ACCOUNT_FROZEN");
      }
    });
  });
});
