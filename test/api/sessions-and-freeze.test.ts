import { expect } from "chai";

import { ADMIN_KEY, createApiFixture, type ApiFixture } from "./helpers/api-fixture.ts";

type Principal = { id: string; key: string };

/**
 * Issue 12, items 1 and 5: a session lives no longer than the credential it came from, can be listed
 * and revoked, and cannot mint a longer-lived credential without a fresh check of its parent; a
 * freeze stops every write of the frozen principal, and who may freeze whom is defined.
 */
describe("API sessions, credentials and freezes", () => {
  let api: ApiFixture;
  let admin: Principal;

  const newSession = async (key: string) => {
    const response = await api.request("POST", "/v1/auth/sessions", { key });
    expect(response.status, JSON.stringify(response.body)).to.equal(201);
    return response.body as { id: string; token: string; expiresAt: string };
  };
  const newKey = async (key: string) => {
    const response = await api.request("POST", "/v1/api-keys", { key });
    expect(response.status, JSON.stringify(response.body)).to.equal(201);
    return response.body as { id: string; apiKey: string };
  };
  const freeze = (by: string, userId: string, frozen = true) =>
    api.request("POST", `/v1/users/${userId}/freeze`, { key: by, body: { frozen } });

  before(async () => {
    api = await createApiFixture("sessions");
    admin = await api.createUser("admin", "second admin");
  });
  after(async () => {
    await api.close();
  });

  describe("sessions (item 1)", () => {
    it("ends every session of an API key the moment the key is revoked, in every API process", async () => {
      const user = await api.createUser("user", "vera");
      const key = await newKey(user.key);
      const session = await newSession(key.apiKey);
      const other = await api.buildAnotherApp();
      expect((await api.request("GET", "/v1/users/me", { key: session.token, via: other })).status).to.equal(200);
      expect((await api.request("DELETE", `/v1/api-keys/${key.id}`, { key: user.key })).status).to.equal(204);
      for (const via of [api.app, other]) {
        const response = await api.request("GET", "/v1/users/me", { key: session.token, via });
        expect(response.status).to.equal(401);
        expect(response.body.error.code).to.equal("UNAUTHENTICATED");
      }
    });

    it("lists a principal's own sessions (never their tokens) and revokes one at once", async () => {
      const user = await api.createUser("user", "walt");
      const first = await newSession(user.key);
      const second = await newSession(user.key);
      const listed = await api.request("GET", "/v1/auth/sessions", { key: user.key });
      expect(listed.status).to.equal(200);
      expect(listed.body.items.map((s: { id: string }) => s.id).sort()).to.deep.equal([first.id, second.id].sort());
      expect(JSON.stringify(listed.body)).to.not.include(first.token);
      const stranger = await api.createUser("user", "xena");
      expect((await api.request("DELETE", `/v1/auth/sessions/${first.id}`, { key: stranger.key })).status).to.equal(
        404,
      );
      expect((await api.request("DELETE", `/v1/auth/sessions/${first.id}`, { key: second.token })).status).to.equal(
        204,
      );
      expect((await api.request("GET", "/v1/users/me", { key: first.token })).status).to.equal(401);
      expect((await api.request("GET", "/v1/users/me", { key: second.token })).status).to.equal(200);
    });

    it("refuses a session minting an API key or a new session without a fresh check of its parent key", async () => {
      const user = await api.createUser("user", "yuri");
      const session = await newSession(user.key);
      for (const path of ["/v1/api-keys", "/v1/auth/sessions"]) {
        const refused = await api.request("POST", path, { key: session.token });
        expect(refused.status, path).to.equal(403);
        expect(refused.body.error.code).to.equal("FRESH_AUTHENTICATION_REQUIRED");
        const wrongParent = await api.request("POST", path, {
          key: session.token,
          headers: { "stablerail-parent-credential": ADMIN_KEY },
        });
        expect(wrongParent.status, path).to.equal(403);
        expect(wrongParent.body.error.code).to.equal("FRESH_AUTHENTICATION_REQUIRED");
      }
      const minted = await api.request("POST", "/v1/api-keys", {
        key: session.token,
        headers: { "stablerail-parent-credential": user.key },
      });
      expect(minted.status, JSON.stringify(minted.body)).to.equal(201);
    });

    it("caps the active API keys of one principal", async () => {
      const user = await api.createUser("user", "zoe");
      const statuses: number[] = [];
      for (let i = 0; i < 25; i++) statuses.push((await api.request("POST", "/v1/api-keys", { key: user.key })).status);
      // The first key came with the user: 19 more fit under the default cap of 20.
      expect(statuses.slice(0, 19)).to.deep.equal(Array(19).fill(201));
      expect(statuses.slice(19)).to.deep.equal(Array(6).fill(409));
      const refused = await api.request("POST", "/v1/api-keys", { key: user.key });
      expect(refused.body.error.code).to.equal("API_KEY_LIMIT_REACHED");
    });
  });

  describe("freezes (item 5)", () => {
    it("stops a frozen principal's writes — keys, sessions, wallets — and leaves reads and revocation", async () => {
      const user = await api.createUser("user", "abe");
      const spare = await newKey(user.key);
      expect((await freeze(ADMIN_KEY, user.id)).status).to.equal(200);
      for (const path of ["/v1/api-keys", "/v1/auth/sessions", "/v1/wallets"]) {
        const refused = await api.request("POST", path, { key: user.key });
        expect(refused.status, path).to.equal(403);
        expect(refused.body.error.code).to.equal("ACCOUNT_FROZEN");
      }
      expect((await api.request("GET", "/v1/users/me", { key: user.key })).body.frozen).to.equal(true);
      expect((await api.request("DELETE", `/v1/api-keys/${spare.id}`, { key: user.key })).status).to.equal(204);
      expect((await freeze(ADMIN_KEY, user.id, false)).status).to.equal(200);
      expect((await api.request("POST", "/v1/wallets", { key: user.key })).status).to.equal(201);
    });

    it("lets an operator freeze users and merchants only; an admin anyone but itself", async () => {
      const operator = await api.createUser("operator", "otto");
      const otherOperator = await api.createUser("operator", "oona");
      const merchant = await api.createUser("merchant", "mo");
      const user = await api.createUser("user", "ulla");
      for (const target of [admin, otherOperator]) {
        const refused = await freeze(operator.key, target.id);
        expect(refused.status).to.equal(403);
        expect(refused.body.error.code).to.equal("FREEZE_NOT_ALLOWED");
      }
      expect((await freeze(operator.key, merchant.id)).status).to.equal(200);
      expect((await freeze(operator.key, user.id)).status).to.equal(200);
      expect((await freeze(admin.key, otherOperator.id)).status).to.equal(200);
      const self = await freeze(admin.key, admin.id);
      expect(self.status).to.equal(403);
      expect(self.body.error.code).to.equal("FREEZE_NOT_ALLOWED");
      const frozenOperator = await freeze(otherOperator.key, user.id, false);
      expect(frozenOperator.status).to.equal(403);
      expect(frozenOperator.body.error.code).to.equal("ACCOUNT_FROZEN");
    });

    it("stops a frozen admin creating users", async () => {
      const frozenAdmin = await api.createUser("admin", "ada");
      expect((await freeze(ADMIN_KEY, frozenAdmin.id)).status).to.equal(200);
      const refused = await api.request("POST", "/v1/users", {
        key: frozenAdmin.key,
        body: { role: "user", name: "x" },
      });
      expect(refused.status).to.equal(403);
      expect(refused.body.error.code).to.equal("ACCOUNT_FROZEN");
    });
  });
});
