import { expect } from "chai";

import { TEST_POSTGRES_URL } from "../helpers/database.ts";
import { createApiFixture, type ApiFixture } from "./helpers/api-fixture.ts";
import { startTcpProxy } from "./helpers/tcp-proxy.ts";

/**
 * Issue 11, defect 7: the API reaches PostgreSQL through a loopback proxy the test cuts, as when
 * the server goes away. A request then is answered 503 with a retryable code, not 500 INTERNAL,
 * and the API serves again once the database is back.
 */
describe("API while its PostgreSQL is unreachable", () => {
  let api: ApiFixture;
  let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
  let user: { id: string; key: string };

  before(async () => {
    const server = new URL(TEST_POSTGRES_URL);
    proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
    const viaProxy = new URL(TEST_POSTGRES_URL);
    viaProxy.hostname = "127.0.0.1";
    viaProxy.port = String(proxy.port);
    api = await createApiFixture("dbloss", { engine: "postgres", postgresUrl: viaProxy.toString(), relay: "queue" });
    user = await api.createUser("user", "uma");
  });
  after(async () => {
    await api.close();
    await proxy.close();
  });

  it("answers 503 DATABASE_UNAVAILABLE with Retry-After while the database is lost, then serves again", async () => {
    await proxy.cut();
    try {
      for (const [method, url] of [
        ["GET", "/v1/users/me"],
        ["POST", "/v1/wallets"],
      ] as const) {
        const response = await api.request(method, url, { key: user.key });
        expect(response.status, JSON.stringify(response.body)).to.equal(503);
        expect(response.body.error.code).to.equal("DATABASE_UNAVAILABLE");
        expect(response.body.error.details.retryable).to.equal(true);
        expect(response.headers["retry-after"]).to.equal("1");
      }
    } finally {
      await proxy.restore();
    }
    const me = await api.request("GET", "/v1/users/me", { key: user.key });
    expect(me.status, JSON.stringify(me.body)).to.equal(200);
    expect(me.body.id).to.equal(user.id);
  });
});
