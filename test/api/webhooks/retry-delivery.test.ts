import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

import { expect } from "chai";
import type { Address } from "viem";

import { createWebhookDeliveryWorker } from "../../../api/webhooks/delivery-worker.ts";
import { dispatchChainEvents } from "../../../api/webhooks/dispatch-chain-events.ts";
import { verifyWebhookSignature } from "../../../api/webhooks/signature.ts";
import { createWebhookQueue } from "../../../api/webhooks/webhook-queue.ts";
import { createLogger } from "../../../lib/logging/logger.ts";
import { createApiFixture, newIdempotencyKey, TEST_REDIS_URL, type ApiFixture } from "../helpers/api-fixture.ts";

type Delivery = { id: string; eventId: string; status: string; attempts: number; responseStatus: number | null };

/**
 * POST /v1/webhook-endpoints/:endpointId/deliveries/:deliveryId/retry against the real API, Redis,
 * database, dispatcher and delivery worker, with a local receiver that fails until told otherwise.
 * The queue gives up after 2 attempts 10 ms apart, so a delivery is `failed` within the test.
 */
describe("Retrying a failed webhook delivery", () => {
  let api: ApiFixture;
  let receiver: Server;
  let url: string;
  const received = new Map<string, { header: string | undefined; body: string }[]>();
  let failing = true;
  let queue: ReturnType<typeof createWebhookQueue>;
  let worker: ReturnType<typeof createWebhookDeliveryWorker>;

  before(async () => {
    api = await createApiFixture("webhook_retry");
    receiver = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk) => (body += chunk));
      request.on("end", () => {
        if (failing) return void response.writeHead(500).end();
        const path = request.url ?? "";
        received.set(path, [
          ...(received.get(path) ?? []),
          { header: request.headers["stablerail-signature"] as string | undefined, body },
        ]);
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    queue = createWebhookQueue({ redisUrl: TEST_REDIS_URL, prefix: api.redisPrefix, attempts: 2, backoffDelayMs: 10 });
    worker = createWebhookDeliveryWorker({
      database: api.database,
      redisUrl: TEST_REDIS_URL,
      prefix: api.redisPrefix,
      logger: createLogger({ name: "webhooks", level: "silent", format: "json" }),
      urlPolicy: { allowLoopback: true },
    });
  });
  after(async () => {
    await worker.close();
    await queue.close();
    receiver.close();
    await api.close();
  });

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const deliveries = async (key: string, endpointId: string) =>
    (await api.request("GET", `/v1/webhook-endpoints/${endpointId}/deliveries`, { key })).body.items as Delivery[];
  const retry = (key: string, endpointId: string, deliveryId: string, idempotencyKey = newIdempotencyKey()) =>
    api.request("POST", `/v1/webhook-endpoints/${endpointId}/deliveries/${deliveryId}/retry`, {
      key,
      headers: { "idempotency-key": idempotencyKey },
    });

  /** A merchant with an endpoint at `path` and one delivery that failed for good (both attempts answered 500). */
  const failedDelivery = async (path: string) => {
    failing = true;
    const merchant = await api.createUser("merchant");
    const endpoint = await api.request("POST", "/v1/webhook-endpoints", {
      key: merchant.key,
      body: { url: `${url}${path}` },
    });
    expect(endpoint.status).to.equal(201);
    const wallet = (await api.request("POST", "/v1/wallets", { key: merchant.key })).body as { address: Address };
    await api.fund(wallet.address, 1_000n);
    await api.indexer.catchUp();
    await dispatchChainEvents({
      database: api.database,
      redis: api.redis,
      prefix: api.redisPrefix,
      chainId: 31337,
      queue: queue.queue,
    });
    const endpointId = endpoint.body.id as string;
    let log = await deliveries(merchant.key, endpointId);
    while (log[0]?.status !== "failed" || (await queue.queue.getJobCounts("failed")).failed === 0) {
      await sleep(25);
      log = await deliveries(merchant.key, endpointId);
    }
    expect(log).to.have.length(1);
    expect(log[0]).to.include({ status: "failed", attempts: 2, responseStatus: 500 });
    return { merchant, endpointId, secret: endpoint.body.secret as string, delivery: log[0]! };
  };

  const delivered = async (key: string, endpointId: string) => {
    while ((await deliveries(key, endpointId))[0]?.status !== "delivered") await sleep(25);
  };

  it("delivers a failed delivery retried by its owner once, the same event, signed and verifiable", async () => {
    const { merchant, endpointId, secret, delivery } = await failedDelivery("/owner");
    failing = false;
    const response = await retry(merchant.key, endpointId, delivery.id);
    expect(response.status, JSON.stringify(response.body)).to.equal(202);
    expect(response.body).to.include({ id: delivery.id, eventId: delivery.eventId, status: "queued" });
    await delivered(merchant.key, endpointId);
    // A delivery that arrived could only be a second one by a later job: give it time to show.
    await sleep(200);
    const arrived = received.get("/owner") ?? [];
    expect(arrived).to.have.length(1);
    expect(JSON.parse(arrived[0]!.body)).to.include({ id: delivery.eventId });
    expect(
      verifyWebhookSignature(arrived[0]!.header, arrived[0]!.body, [secret], Math.floor(Date.now() / 1000)),
    ).to.equal(true);
    expect((await deliveries(merchant.key, endpointId))[0]).to.include({
      status: "delivered",
      responseStatus: 204,
      attempts: 3,
    });
  });

  it("answers 404 to another merchant's retry, and to an unknown delivery, and delivers nothing", async () => {
    const { merchant, endpointId, delivery } = await failedDelivery("/stranger");
    failing = false;
    const stranger = await api.createUser("merchant");
    const theirs = await retry(stranger.key, endpointId, delivery.id);
    expect(theirs.status).to.equal(404);
    expect(theirs.body.error.code).to.equal("WEBHOOK_ENDPOINT_NOT_FOUND");
    const unknown = await retry(merchant.key, endpointId, "00000000-0000-4000-8000-000000000000");
    expect(unknown.status).to.equal(404);
    expect(unknown.body.error.code).to.equal("WEBHOOK_DELIVERY_NOT_FOUND");
    await sleep(200);
    expect(received.get("/stranger") ?? []).to.have.length(0);
    expect((await deliveries(merchant.key, endpointId))[0]).to.include({ status: "failed", attempts: 2 });
  });

  it("refuses to retry a delivered delivery with 409 WEBHOOK_DELIVERY_NOT_FAILED, and asks for an Idempotency-Key", async () => {
    const { merchant, endpointId, delivery } = await failedDelivery("/twice");
    failing = false;
    const noKey = await api.request("POST", `/v1/webhook-endpoints/${endpointId}/deliveries/${delivery.id}/retry`, {
      key: merchant.key,
    });
    expect(noKey.status).to.equal(400);
    const key = newIdempotencyKey();
    expect((await retry(merchant.key, endpointId, delivery.id, key)).status).to.equal(202);
    await delivered(merchant.key, endpointId);
    // The same key replays the first answer; a new one is refused: the delivery is no longer failed.
    const replay = await retry(merchant.key, endpointId, delivery.id, key);
    expect(replay.status).to.equal(202);
    expect(replay.headers["idempotent-replayed"]).to.equal("true");
    const again = await retry(merchant.key, endpointId, delivery.id);
    expect(again.status).to.equal(409);
    expect(again.body.error).to.deep.include({ code: "WEBHOOK_DELIVERY_NOT_FAILED", details: { status: "delivered" } });
    await sleep(200);
    expect(received.get("/twice") ?? []).to.have.length(1);
  });

  it("queues one delivery for two concurrent retries (one 202, one 409)", async () => {
    const { merchant, endpointId, delivery } = await failedDelivery("/concurrent");
    failing = false;
    const answers = await Promise.all([
      retry(merchant.key, endpointId, delivery.id),
      retry(merchant.key, endpointId, delivery.id),
    ]);
    expect(answers.map((answer) => answer.status).sort()).to.deep.equal([202, 409]);
    await delivered(merchant.key, endpointId);
    await sleep(200);
    expect(received.get("/concurrent") ?? []).to.have.length(1);
    expect((await deliveries(merchant.key, endpointId))[0]).to.include({ attempts: 3 });
  });
});
