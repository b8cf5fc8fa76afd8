import { expect } from "chai";
import { privateKeyToAccount } from "viem/accounts";
import { createSiweMessage } from "viem/siwe";

import { HARDHAT_PRIVATE_KEYS } from "../helpers/chain.ts";
import { ADMIN_KEY, createApiFixture, newIdempotencyKey, type ApiFixture } from "./helpers/api-fixture.ts";

describe("API authentication and authorisation", () => {
  let api: ApiFixture;
  let alice: { id: string; key: string };
  let bob: { id: string; key: string };
  let aliceWallet: string;
  const staff: Record<string, { id: string; key: string }> = {};

  before(async () => {
    api = await createApiFixture("auth");
    alice = await api.createUser("user", "alice");
    bob = await api.createUser("user", "bob");
    for (const role of ["operator", "auditor", "admin", "merchant"] as const) staff[role] = await api.createUser(role);
    aliceWallet = (await api.request("POST", "/v1/wallets", { key: alice.key })).body.id;
  });
  after(async () => {
    await api.close();
  });

  it("refuses a request without a credential with 401 UNAUTHENTICATED", async () => {
    const response = await api.request("GET", "/v1/wallets");
    expect(response.status).to.equal(401);
    expect(response.body.error.code).to.equal("UNAUTHENTICATED");
  });

  it("refuses an unknown or malformed bearer credential with 401", async () => {
    expect((await api.request("GET", "/v1/wallets", { key: "sr_key_nope" })).status).to.equal(401);
    expect((await api.request("GET", "/health", { headers: { authorization: "Basic abc" } })).status).to.equal(401);
  });

  it("lets only admins create users (403 FORBIDDEN for every other role)", async () => {
    for (const key of [alice.key, staff.operator!.key, staff.auditor!.key, staff.merchant!.key]) {
      const response = await api.request("POST", "/v1/users", { key, body: { role: "user", name: "x" } });
      expect(response.status).to.equal(403);
      expect(response.body.error.code).to.equal("FORBIDDEN");
    }
    expect(
      (await api.request("POST", "/v1/users", { key: ADMIN_KEY, body: { role: "user", name: "x" } })).status,
    ).to.equal(201);
  });

  it("never returns a custodial wallet's key material", async () => {
    const response = await api.request("GET", `/v1/wallets/${aliceWallet}`, { key: alice.key });
    expect(response.status).to.equal(200);
    expect(Object.keys(response.body).sort()).to.deep.equal(["address", "createdAt", "id", "kind"]);
  });

  it("hides another user's wallet: 404 WALLET_NOT_FOUND on read, balances, history and transfer", async () => {
    for (const path of ["", "/balances", "/history", "/transfers"]) {
      const response = await api.request("GET", `/v1/wallets/${aliceWallet}${path}`, { key: bob.key });
      expect(response.status, path).to.equal(404);
      expect(response.body.error.code).to.equal("WALLET_NOT_FOUND");
    }
    const balance = await api.balanceOf(api.roles.bob.address as `0x${string}`);
    const send = await api.request("POST", `/v1/wallets/${aliceWallet}/transfers`, {
      key: bob.key,
      idempotencyKey: newIdempotencyKey(),
      body: { to: api.roles.bob.address, amount: "1" },
    });
    expect(send.status).to.equal(404);
    expect(await api.relayCount()).to.equal(0);
    expect(await api.balanceOf(api.roles.bob.address as `0x${string}`)).to.equal(balance);
  });

  it("lets operators, auditors and admins read a user's wallet but not move its funds", async () => {
    for (const role of ["operator", "auditor", "admin"] as const) {
      expect(
        (await api.request("GET", `/v1/wallets/${aliceWallet}/balances`, { key: staff[role]!.key })).status,
        role,
      ).to.equal(200);
    }
    for (const role of ["operator", "auditor", "admin"] as const) {
      const response = await api.request("POST", `/v1/wallets/${aliceWallet}/transfers`, {
        key: staff[role]!.key,
        idempotencyKey: newIdempotencyKey(),
        body: { to: api.roles.bob.address, amount: "1" },
      });
      expect(response.status, role).to.equal(403);
    }
    expect(await api.relayCount()).to.equal(0);
  });

  it("creates API keys shown once and stored hashed; a revoked key stops working", async () => {
    const created = await api.request("POST", "/v1/api-keys", { key: alice.key });
    expect(created.status).to.equal(201);
    const key = created.body.apiKey as string;
    const rows = await api.database.query<{ key_hash: string }>(
      (await import("drizzle-orm")).sql`SELECT key_hash FROM api_keys`,
    );
    expect(rows.map((row) => row.key_hash)).to.not.include(key);
    const listed = await api.request("GET", "/v1/api-keys", { key });
    expect(JSON.stringify(listed.body)).to.not.include(key);
    expect((await api.request("DELETE", `/v1/api-keys/${created.body.id}`, { key })).status).to.equal(204);
    expect((await api.request("GET", "/v1/wallets", { key })).status).to.equal(401);
  });

  it("exchanges an API key for an expiring session token that authenticates as the same user", async () => {
    const session = await api.request("POST", "/v1/auth/sessions", { key: alice.key });
    expect(session.status).to.equal(201);
    expect(new Date(session.body.expiresAt).getTime()).to.be.greaterThan(Date.now());
    const me = await api.request("GET", "/v1/users/me", { key: session.body.token });
    expect(me.body.id).to.equal(alice.id);
  });

  it("registers a self-custody address by SIWE and signs in with it; a nonce works only once", async () => {
    const carol = privateKeyToAccount(HARDHAT_PRIVATE_KEYS[8]);
    const sign = async () => {
      const { nonce, domain } = (await api.request("GET", "/v1/auth/siwe/nonce")).body;
      const message = createSiweMessage({
        address: carol.address,
        chainId: 31337,
        domain,
        nonce,
        uri: "http://localhost/",
        version: "1",
      });
      return { message, signature: await carol.signMessage({ message }) };
    };
    const registration = await sign();
    const registered = await api.request("POST", "/v1/wallets/self-custody", { key: bob.key, body: registration });
    expect(registered.status).to.equal(201);
    expect(registered.body).to.include({ kind: "self_custody", address: carol.address });
    const replay = await api.request("POST", "/v1/wallets/self-custody", { key: bob.key, body: registration });
    expect(replay.status).to.equal(401);
    expect(replay.body.error.code).to.equal("SIWE_NONCE_INVALID");

    const signIn = await api.request("POST", "/v1/auth/siwe", { body: await sign() });
    expect(signIn.status).to.equal(201);
    expect((await api.request("GET", "/v1/users/me", { key: signIn.body.token })).body.id).to.equal(bob.id);
  });

  it("rejects a SIWE message signed by another key", async () => {
    const carol = privateKeyToAccount(HARDHAT_PRIVATE_KEYS[8]);
    const mallory = privateKeyToAccount(HARDHAT_PRIVATE_KEYS[7]);
    const { nonce, domain } = (await api.request("GET", "/v1/auth/siwe/nonce")).body;
    const message = createSiweMessage({
      address: carol.address,
      chainId: 31337,
      domain,
      nonce,
      uri: "http://localhost/",
      version: "1",
    });
    const response = await api.request("POST", "/v1/auth/siwe", {
      body: { message, signature: await mallory.signMessage({ message }) },
    });
    expect(response.status).to.equal(401);
    expect(response.body.error.code).to.equal("SIWE_MESSAGE_INVALID");
  });

  it("paginates wallets with an opaque cursor and a bounded limit", async () => {
    for (let i = 0; i < 4; i++) await api.request("POST", "/v1/wallets", { key: staff.merchant!.key });
    const first = await api.request("GET", "/v1/wallets?limit=3", { key: staff.merchant!.key });
    expect(first.body.items).to.have.length(3);
    const second = await api.request("GET", `/v1/wallets?limit=3&cursor=${first.body.nextCursor}`, {
      key: staff.merchant!.key,
    });
    expect(second.body.items).to.have.length(1);
    expect(second.body.nextCursor).to.equal(null);
    expect(new Set([...first.body.items, ...second.body.items].map((w: { id: string }) => w.id)).size).to.equal(4);
    expect((await api.request("GET", "/v1/wallets?limit=1000", { key: staff.merchant!.key })).status).to.equal(400);
    const bad = await api.request("GET", "/v1/wallets?cursor=garbage", { key: staff.merchant!.key });
    expect(bad.status).to.equal(400);
    expect(bad.body.error.code).to.equal("CURSOR_INVALID");
  });
});

describe("API rate limits", () => {
  let api: ApiFixture;
  before(async () => {
    api = await createApiFixture("ratelimit", { rateLimitPerMinute: 5 });
  });
  after(async () => {
    await api.close();
  });

  it("answers 429 RATE_LIMITED once a key exceeds its per-minute budget, counted per key", async () => {
    const user = await api.createUser("user");
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await api.request("GET", "/v1/wallets", { key: user.key })).status);
    expect(statuses.slice(0, 5)).to.deep.equal([200, 200, 200, 200, 200]);
    const limited = await api.request("GET", "/v1/wallets", { key: user.key });
    expect(limited.status).to.equal(429);
    expect(limited.body.error.code).to.equal("RATE_LIMITED");
    const other = await api.createUser("user", "other");
    expect((await api.request("GET", "/v1/wallets", { key: other.key })).status).to.equal(200);
  });
});
