/**
 * The operators' view of the relayer (issue 11) and relay ids (issue 12 item 9): a relay the API
 * returns is fetchable whatever the client's Idempotency-Key; dead letters carry their reason and
 * their safe actions; /ready shows indexer lag and stuck keys; /metrics needs a credential; the
 * BullMQ dashboard is for operators.
 */
import { expect } from "chai";
import { eq } from "drizzle-orm";
import { keccak256, toHex, type Address } from "viem";

import { relayerTransactions, relays } from "../../relayer/db/schema.ts";
import { enqueueRelay } from "../../relayer/enqueue-relay.ts";
import { ONE } from "../helpers/stablecoin.ts";
import { createApiFixture, type ApiFixture } from "./helpers/api-fixture.ts";

describe("Relay operations: ids, dead letters, readiness, metrics and the queue dashboard", function () {
  this.timeout(120_000);
  let api: ApiFixture;
  let user: { id: string; key: string };
  let operator: { id: string; key: string };
  let wallet: { id: string; address: Address };
  const recipient = "0x000000000000000000000000000000000000dEaD" as Address;

  before(async () => {
    api = await createApiFixture("relay_ops");
    user = await api.createUser("user", "ruth");
    operator = await api.createUser("operator", "omar");
    wallet = (await api.request("POST", "/v1/wallets", { key: user.key })).body;
    await api.fund(wallet.address, 10n * ONE);
  });
  after(async () => api.close());

  it("answers GET /v1/relays/:id for a relay queued with a 128-character Idempotency-Key; the id reveals neither the key nor the user", async () => {
    const idempotencyKey = `idem-${"k".repeat(123)}`;
    const response = await api.request("POST", `/v1/wallets/${wallet.id}/transfers`, {
      key: user.key,
      body: { to: recipient, amount: "1" },
      idempotencyKey,
    });
    expect(response.status, JSON.stringify(response.body)).to.equal(202);
    const relayId = response.body.relayId as string;
    expect(relayId).to.match(/^relay-[0-9a-f]{32}$/);
    expect(relayId).to.not.include(user.id);
    await api.waitForRelay(relayId);
    const fetched = await api.request("GET", `/v1/relays/${relayId}`, { key: user.key });
    expect(fetched.status, JSON.stringify(fetched.body)).to.equal(200);
    expect(fetched.body).to.include({ relayId, status: "confirmed" });
    expect(fetched.body.actions, "no operator actions for a user").to.equal(undefined);
  });

  it("lists a refused relay as a dead letter with its reason, and refuses to retry it while its authorization is used", async () => {
    const response = await api.request("POST", `/v1/wallets/${wallet.id}/transfers`, {
      key: user.key,
      body: { to: recipient, amount: "2" },
      idempotencyKey: `ops-${toHex(crypto.getRandomValues(new Uint8Array(8))).slice(2)}`,
    });
    await api.waitForRelay(response.body.relayId);
    const [row] = await api.database.db.select().from(relays).where(eq(relays.relayId, response.body.relayId));
    const { relayId } = await enqueueRelay(api.workers!.queue, {
      idempotencyKey: `replay.${response.body.relayId}`,
      requestedBy: user.id,
      request: row!.request as never,
    });
    expect(await api.waitForRelay(relayId)).to.include({ state: "failed" });

    const dead = await api.request("GET", "/v1/relays?status=dead&limit=50", { key: operator.key });
    expect(dead.status).to.equal(200);
    const letter = dead.body.items.find((item: { relayId: string }) => item.relayId === relayId);
    expect(letter).to.include({ status: "failed", errorCode: "RELAY_REVERTED" });
    expect(letter.actions.retry.allowed).to.equal(false);
    expect(letter.actions.retry.reason).to.match(/already used on chain/);
    expect(letter.actions.cancel.allowed).to.equal(false);
    const retry = await api.request("POST", `/v1/relays/${relayId}/retry`, { key: operator.key });
    expect(retry.status).to.equal(409);
    expect(retry.body.error.code).to.equal("RELAY_NOT_RETRYABLE");
    expect((await api.request("POST", `/v1/relays/${relayId}/retry`, { key: user.key })).status).to.equal(403);
  });

  it("answers /ready 503 with the indexer's lag past API_READY_MAX_INDEXER_LAG_BLOCKS, and 200 once it caught up", async () => {
    await api.indexer.catchUp();
    const ready = await api.request("GET", "/ready");
    expect(ready.status, JSON.stringify(ready.body)).to.equal(200);
    expect(ready.body.indexer).to.include({ ok: true, lagBlocks: 0 });
    await api.chain.testClient.mine({ blocks: 70 });
    const lagging = await api.request("GET", "/ready");
    expect(lagging.status).to.equal(503);
    expect(lagging.body.indexer).to.include({ ok: false, lagBlocks: 70, maxLagBlocks: 64 });
    expect(lagging.body.indexer.error).to.match(/70 blocks behind/);
    await api.indexer.catchUp();
    expect((await api.request("GET", "/ready")).status).to.equal(200);
  });

  it("answers /ready 503 naming a relayer key whose transaction has not mined for longer than API_READY_STUCK_KEY_SECONDS", async () => {
    // A key's record as the relayer leaves it when the node never mined its transaction (written
    // here directly: waiting out the threshold in a test would take minutes).
    const raw = toHex(crypto.getRandomValues(new Uint8Array(100)));
    const stuckKey = "0x00000000000000000000000000000000000000aa";
    await api.database.db.insert(relayerTransactions).values({
      relayer: stuckKey,
      nonce: 7,
      hash: keccak256(raw),
      raw,
      relayIds: [],
      maxFeePerGas: "1",
      maxPriorityFeePerGas: "1",
      status: "sent",
      createdAt: new Date(Date.now() - 10 * 60_000),
    });
    try {
      const ready = await api.request("GET", "/ready");
      expect(ready.status).to.equal(503);
      expect(ready.body.relayer.ok).to.equal(false);
      expect(
        ready.body.relayer.stuckKeys.map((key: { relayer: string; nonce: number }) => [key.relayer, key.nonce]),
      ).to.deep.equal([[stuckKey, 7]]);
      const metrics = await api.request("GET", "/metrics", { key: operator.key });
      expect(metrics.body).to.match(/stablerail_relayer_keys_stuck 1/);
    } finally {
      await api.database.db.delete(relayerTransactions).where(eq(relayerTransactions.relayer, stuckKey));
    }
    expect((await api.request("GET", "/ready")).status).to.equal(200);
  });

  it("serves /metrics (indexer lag, stuck keys) to operators and admins only", async () => {
    const anonymous = await api.request("GET", "/metrics");
    expect(anonymous.status).to.equal(401);
    expect(anonymous.body.error.code).to.equal("UNAUTHENTICATED");
    expect((await api.request("GET", "/metrics", { key: user.key })).status).to.equal(401);
    expect((await api.request("GET", "/metrics", { headers: { "x-metrics-token": "x".repeat(40) } })).status).to.equal(
      401,
    );
    const scraped = await api.request("GET", "/metrics", { key: operator.key });
    expect(scraped.status).to.equal(200);
    expect(scraped.body).to.match(/stablerail_indexer_lag_blocks \d+/);
    expect(scraped.body).to.match(/stablerail_relayer_keys_stuck \d+/);
  });

  it("serves /metrics to a scraper presenting API_METRICS_TOKEN, and to no other token", async () => {
    const token = `metrics-${"t".repeat(40)}`;
    const scraperApp = await api.buildAnotherApp({ API_METRICS_TOKEN: token });
    const scraped = await api.request("GET", "/metrics", { via: scraperApp, headers: { "x-metrics-token": token } });
    expect(scraped.status).to.equal(200);
    expect(scraped.body).to.match(/stablerail_indexer_lag_blocks \d+/);
    for (const wrong of [`${token}x`, token.slice(0, -1), "x".repeat(token.length)]) {
      const refused = await api.request("GET", "/metrics", { via: scraperApp, headers: { "x-metrics-token": wrong } });
      expect(refused.status, wrong).to.equal(401);
    }
    // The token opens /metrics only: it is no credential anywhere else.
    const relaysWithToken = await api.request("GET", "/v1/relays", {
      via: scraperApp,
      headers: { "x-metrics-token": token },
    });
    expect(relaysWithToken.status).to.equal(401);
  });

  it("refuses a user's and a merchant's retry and cancel of a relay, and changes nothing", async () => {
    const merchant = await api.createUser("merchant", "mona");
    const response = await api.request("POST", `/v1/wallets/${wallet.id}/transfers`, {
      key: user.key,
      body: { to: recipient, amount: "3" },
      idempotencyKey: `ops-${toHex(crypto.getRandomValues(new Uint8Array(8))).slice(2)}`,
    });
    const relayId = response.body.relayId as string;
    await api.waitForRelay(relayId);
    const before = (await api.request("GET", `/v1/relays/${relayId}`, { key: operator.key })).body;
    for (const key of [user.key, merchant.key]) {
      for (const action of ["retry", "cancel"]) {
        const refused = await api.request("POST", `/v1/relays/${relayId}/${action}`, { key });
        expect(refused.status, action).to.equal(403);
        expect(refused.body.error.code).to.be.a("string");
      }
    }
    const after = (await api.request("GET", `/v1/relays/${relayId}`, { key: operator.key })).body;
    expect(after).to.deep.equal(before);
  });

  it("serves the BullMQ dashboard of the relay queues to operators only", async () => {
    const anonymous = await api.request("GET", "/v1/relays/dashboard");
    expect(anonymous.status).to.equal(401);
    expect(anonymous.body.error.code).to.equal("UNAUTHENTICATED");
    expect((await api.request("GET", "/v1/relays/dashboard", { key: user.key })).status).to.equal(403);
    const page = await api.request("GET", "/v1/relays/dashboard", { key: operator.key });
    expect(page.status).to.equal(200);
    expect(String(page.body)).to.match(/<html/i);
    const queues = await api.request("GET", "/v1/relays/dashboard/api/queues", { key: operator.key });
    expect(queues.status, JSON.stringify(queues.body).slice(0, 300)).to.equal(200);
    expect(queues.body.queues.map((queue: { name: string }) => queue.name)).to.have.members([
      "relay-transfers",
      "relay-operator",
    ]);
    expect((await api.request("GET", "/v1/relays/dashboard/api/queues", { key: user.key })).status).to.equal(403);
    const merchant = await api.createUser("merchant", "mo");
    expect((await api.request("GET", "/v1/relays/dashboard/api/queues", { key: merchant.key })).status).to.equal(403);
  });
});
