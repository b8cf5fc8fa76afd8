import { expect } from "chai";
import type { FastifyInstance } from "fastify";
import { privateKeyToAccount } from "viem/accounts";

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
    const registration = await api.signInWithEthereum(carol, { key: bob.key });
    const body = { message: registration.message, signature: registration.signature };
    const registered = await api.request("POST", "/v1/wallets/self-custody", { key: bob.key, body });
    expect(registered.status).to.equal(201);
    expect(registered.body).to.include({ kind: "self_custody", address: carol.address });
    const replay = await api.request("POST", "/v1/wallets/self-custody", { key: bob.key, body });
    expect(replay.status).to.equal(401);
    expect(replay.body.error.code).to.equal("SIWE_NONCE_INVALID");

    const { message, signature } = await api.signInWithEthereum(carol);
    const signIn = await api.request("POST", "/v1/auth/siwe", { body: { message, signature } });
    expect(signIn.status).to.equal(201);
    expect((await api.request("GET", "/v1/users/me", { key: signIn.body.token })).body.id).to.equal(bob.id);
  });

  it("rejects a SIWE message signed by another key", async () => {
    const carol = privateKeyToAccount(HARDHAT_PRIVATE_KEYS[8]);
    const mallory = privateKeyToAccount(HARDHAT_PRIVATE_KEYS[7]);
    const { message } = await api.signInWithEthereum(carol);
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
  /** An API process with small limits; the fixture's own (high limits) creates the principals. */
  let limited: FastifyInstance;
  before(async () => {
    api = await createApiFixture("ratelimit");
    limited = await api.buildAnotherApp({
      API_RATE_LIMIT_PER_MINUTE: "5",
      API_RATE_LIMIT_PER_IP_PER_MINUTE: "8",
      API_AUTH_FAILURES_PER_IP_PER_MINUTE: "3",
    });
  });
  after(async () => {
    await api.close();
  });
  let nextIp = 1;
  /** A client address of its own for each test, so the per-IP budgets start afresh. */
  const freshIp = () => `10.0.0.${nextIp++}`;

  it("answers 429 RATE_LIMITED with a message once a principal exceeds its budget: exactly five pass", async () => {
    const user = await api.createUser("user");
    const remoteAddress = freshIp();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await api.request("GET", "/v1/wallets", { key: user.key, remoteAddress, via: limited })).status);
    expect(statuses).to.deep.equal([200, 200, 200, 200, 200, 429]);
    const refused = await api.request("GET", "/v1/wallets", { key: user.key, remoteAddress, via: limited });
    expect(refused.status).to.equal(429);
    expect(refused.body.error.code).to.equal("RATE_LIMITED");
    expect(refused.body.error.message)
      .to.be.a("string")
      .and.match(/5 requests per minute/);
    expect(refused.headers["retry-after"]).to.match(/^\d+$/);
    const other = await api.createUser("user", "other");
    expect(
      (await api.request("GET", "/v1/wallets", { key: other.key, remoteAddress: freshIp(), via: limited })).status,
    ).to.equal(200);
  });

  it("counts a principal's requests under all its keys together (a new key is no new budget)", async () => {
    const user = await api.createUser("user", "many keys");
    const remoteAddress = freshIp();
    const second = (await api.request("POST", "/v1/api-keys", { key: user.key, remoteAddress, via: limited })).body
      .apiKey;
    for (let i = 0; i < 4; i++) await api.request("GET", "/v1/wallets", { key: user.key, remoteAddress, via: limited });
    const refused = await api.request("GET", "/v1/wallets", { key: second, remoteAddress: freshIp(), via: limited });
    expect(refused.status).to.equal(429);
  });

  it("counts requests that fail validation", async () => {
    const user = await api.createUser("user", "sloppy");
    const remoteAddress = freshIp();
    for (let i = 0; i < 5; i++) {
      expect(
        (await api.request("GET", "/v1/wallets?limit=0", { key: user.key, remoteAddress, via: limited })).status,
      ).to.equal(400);
    }
    expect((await api.request("GET", "/v1/wallets", { key: user.key, remoteAddress, via: limited })).status).to.equal(
      429,
    );
  });

  it("slows down guessing keys: failed authentications are counted per IP", async () => {
    const remoteAddress = freshIp();
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      statuses.push(
        (await api.request("GET", "/v1/wallets", { key: `sr_key_guess${i}`, remoteAddress, via: limited })).status,
      );
    }
    expect(statuses).to.deep.equal([401, 401, 401, 429, 429]);
    const user = await api.createUser("user", "honest neighbour");
    expect((await api.request("GET", "/v1/wallets", { key: user.key, remoteAddress, via: limited })).status).to.equal(
      429,
    );
    expect(
      (await api.request("GET", "/v1/wallets", { key: user.key, remoteAddress: freshIp(), via: limited })).status,
    ).to.equal(200);
  });

  it("limits each client address across principals", async () => {
    const remoteAddress = freshIp();
    const first = await api.createUser("user", "first");
    const second = await api.createUser("user", "second");
    for (let i = 0; i < 5; i++)
      await api.request("GET", "/v1/wallets", { key: first.key, remoteAddress, via: limited });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await api.request("GET", "/v1/wallets", { key: second.key, remoteAddress, via: limited })).status);
    expect(statuses).to.deep.equal([200, 200, 200, 429]);
  });
});
