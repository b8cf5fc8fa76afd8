import { expect } from "chai";

import { ADMIN_KEY, createApiFixture, type ApiFixture } from "./helpers/api-fixture.ts";

describe("API platform: errors, docs, health, metrics", () => {
  let api: ApiFixture;
  before(async () => {
    api = await createApiFixture("platform");
  });
  after(async () => {
    await api.close();
  });

  it("answers an unknown route with 404 ROUTE_NOT_FOUND in the one error shape", async () => {
    const response = await api.request("GET", "/v1/nope");
    expect(response.status).to.equal(404);
    expect(response.body).to.deep.equal({ error: { code: "ROUTE_NOT_FOUND", message: "No route GET /v1/nope" } });
  });

  it("answers a validation failure with 400 VALIDATION_FAILED and the zod issues in details", async () => {
    const response = await api.request("POST", "/v1/users", { key: ADMIN_KEY, body: { role: "king", name: "" } });
    expect(response.status).to.equal(400);
    expect(response.body.error.code).to.equal("VALIDATION_FAILED");
    expect(response.body.error.details.issues).to.be.an("array").with.length.greaterThan(0);
  });

  it("answers malformed JSON with 400 VALIDATION_FAILED, not a 500", async () => {
    const response = await api.app.inject({
      method: "POST",
      url: "/v1/users",
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
      payload: "{not json",
    });
    expect(response.statusCode).to.equal(400);
    expect(response.json().error.code).to.equal("VALIDATION_FAILED");
  });

  it("serves the interactive docs at /docs and the OpenAPI JSON at /docs/json with every v1 route", async () => {
    const page = await api.app.inject({ method: "GET", url: "/docs/" });
    expect(page.statusCode).to.equal(200);
    expect(page.headers["content-type"]).to.match(/text\/html/);
    const json = await api.request("GET", "/docs/json");
    expect(json.status).to.equal(200);
    expect(json.body.openapi).to.match(/^3\./);
    expect(Object.keys(json.body.paths)).to.include.members([
      "/v1/users/",
      "/v1/wallets/",
      "/v1/wallets/{walletId}/transfers",
      "/v1/auth/siwe/nonce",
    ]);
  });

  it("reports /health ok and /ready 200 when chain, Redis and database answer", async () => {
    expect((await api.request("GET", "/health")).body).to.deep.equal({ status: "ok" });
    await api.indexer.catchUp();
    const ready = await api.request("GET", "/ready");
    expect(ready.status, JSON.stringify(ready.body)).to.equal(200);
    expect(ready.body).to.deep.include({ chain: { ok: true }, redis: { ok: true }, database: { ok: true } });
    expect(ready.body.indexer).to.include({ ok: true, lagBlocks: 0 });
    expect(ready.body.relayer).to.deep.include({ ok: true, stuckKeys: [] });
  });

  it("serves Prometheus metrics with the request latency histogram and indexer lag", async () => {
    await api.request("GET", "/health");
    const response = await api.app.inject({
      method: "GET",
      url: "/metrics",
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    expect(response.statusCode).to.equal(200);
    expect(response.body).to.include("stablerail_http_request_duration_seconds_bucket");
    expect(response.body).to.include("stablerail_indexer_lag_blocks");
  });

  it("echoes a request id on every response", async () => {
    const response = await api.app.inject({ method: "GET", url: "/health" });
    expect(response.headers["x-request-id"]).to.be.a("string").with.length.greaterThan(0);
  });
  it("documents each route's roles and, on money routes, a required Idempotency-Key with its format", async () => {
    const document = (await api.app.inject({ method: "GET", url: "/docs/json" })).json();
    const operation = (path: string, method: string) => document.paths[path][method];
    for (const [path, byMethod] of Object.entries(document.paths as Record<string, Record<string, unknown>>)) {
      for (const [method, described] of Object.entries(byMethod)) {
        expect((described as { "x-roles"?: unknown })["x-roles"], `${method} ${path}`).to.be.an("array");
      }
    }
    expect(operation("/v1/payouts/", "post")["x-roles"]).to.deep.equal(["operator", "admin"]);
    expect(operation("/v1/payouts/", "post").description).to.include("Roles: operator, admin.");
    expect(operation("/health", "get")["x-roles"]).to.deep.equal([]);
    const header = operation("/v1/wallets/{walletId}/transfers", "post").parameters.find(
      (parameter: { in: string; name: string }) => parameter.in === "header" && parameter.name === "idempotency-key",
    );
    expect(header).to.deep.include({ required: true });
    expect(header.schema.pattern).to.be.a("string");
  });

  describe("headers (issue 12, item 17)", () => {
    it("sends security headers on every answer, errors included", async () => {
      for (const url of ["/health", "/v1/nope", "/v1/wallets"]) {
        const response = await api.app.inject({ method: "GET", url });
        expect(response.headers["x-content-type-options"], url).to.equal("nosniff");
        expect(response.headers["content-security-policy"], url).to.include("default-src 'none'");
        expect(response.headers["x-frame-options"], url).to.equal("SAMEORIGIN");
        expect(response.headers["strict-transport-security"], url).to.be.a("string");
      }
    });

    it("marks every answer that carries a key, a session or a secret Cache-Control: no-store", async () => {
      const user = await api.request("POST", "/v1/users", { key: ADMIN_KEY, body: { role: "merchant", name: "nc" } });
      const key = user.body.apiKey as string;
      const answers = [
        user,
        await api.request("POST", "/v1/api-keys", { key }),
        await api.request("POST", "/v1/auth/sessions", { key }),
        await api.request("POST", "/v1/webhook-endpoints", { key, body: { url: "http://127.0.0.1:9/hook" } }),
        await api.request("GET", "/v1/users/me", { key }),
      ];
      for (const answer of answers) {
        expect(answer.status, JSON.stringify(answer.body)).to.be.within(200, 201);
        expect(answer.headers["cache-control"]).to.equal("no-store");
      }
    });

    it("answers a CORS preflight: allowed for a configured origin, without an allow-origin for any other", async () => {
      const corsApp = await api.buildAnotherApp({ API_CORS_ORIGINS: "https://wallet.example" });
      const preflight = (origin: string) =>
        corsApp.inject({
          method: "OPTIONS",
          url: "/v1/wallets",
          headers: {
            origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization, idempotency-key",
          },
        });
      const allowed = await preflight("https://wallet.example");
      expect(allowed.statusCode).to.equal(204);
      expect(allowed.headers["access-control-allow-origin"]).to.equal("https://wallet.example");
      expect(String(allowed.headers["access-control-allow-headers"])).to.include("idempotency-key");
      const other = await preflight("https://evil.example");
      expect(other.statusCode).to.equal(403);
      expect(other.json().error.code).to.equal("CORS_ORIGIN_NOT_ALLOWED");
      expect(other.headers["access-control-allow-origin"]).to.equal(undefined);
      const get = await corsApp.inject({ method: "GET", url: "/health", headers: { origin: "https://evil.example" } });
      expect(get.headers["access-control-allow-origin"]).to.equal(undefined);
    });

    it("still serves the interactive docs, under a policy that lets its own scripts run", async () => {
      const page = await api.app.inject({ method: "GET", url: "/docs/" });
      expect(page.statusCode).to.equal(200);
      expect(page.headers["content-security-policy"]).to.include("script-src");
    });
  });
});
