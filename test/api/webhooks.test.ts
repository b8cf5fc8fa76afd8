import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

import { expect } from "chai";
import type { Address } from "viem";

import { createWebhookDeliveryWorker } from "../../api/webhooks/delivery-worker.ts";
import { dispatchChainEvents } from "../../api/webhooks/dispatch-chain-events.ts";
import { signWebhookPayload, verifyWebhookSignature } from "../../api/webhooks/signature.ts";
import { createWebhookQueue } from "../../api/webhooks/webhook-queue.ts";
import { createLogger } from "../../lib/logging/logger.ts";
import { createApiFixture, newIdempotencyKey, TEST_REDIS_URL, type ApiFixture } from "./helpers/api-fixture.ts";

describe("verifyWebhookSignature", () => {
  const body = JSON.stringify({ id: "evt_1", type: "stablecoin.transfer" });
  const now = 1_800_000_000;

  it("accepts a signature made with the receiver's secret within the 5-minute window", () => {
    expect(verifyWebhookSignature(signWebhookPayload(body, ["s1"], now - 299), body, ["s1"], now)).to.equal(true);
  });

  it("rejects a timestamp outside the window, a tampered body, another secret and a malformed header", () => {
    expect(verifyWebhookSignature(signWebhookPayload(body, ["s1"], now - 301), body, ["s1"], now)).to.equal(false);
    expect(verifyWebhookSignature(signWebhookPayload(body, ["s1"], now), `${body} `, ["s1"], now)).to.equal(false);
    expect(verifyWebhookSignature(signWebhookPayload(body, ["s1"], now), body, ["s2"], now)).to.equal(false);
    expect(verifyWebhookSignature("garbage", body, ["s1"], now)).to.equal(false);
    expect(verifyWebhookSignature(undefined, body, ["s1"], now)).to.equal(false);
  });

  it("accepts either secret while one rotates (two v1 signatures in one header)", () => {
    const header = signWebhookPayload(body, ["new", "old"], now);
    expect(header.match(/v1=/g)).to.have.length(2);
    expect(verifyWebhookSignature(header, body, ["old"], now)).to.equal(true);
    expect(verifyWebhookSignature(header, body, ["new"], now)).to.equal(true);
  });
});

describe("Webhook delivery to merchant endpoints", () => {
  let api: ApiFixture;
  let receiver: Server;
  let received: { header: string | undefined; body: string }[] = [];
  let failNext = 0;
  let queue: ReturnType<typeof createWebhookQueue>;
  let worker: ReturnType<typeof createWebhookDeliveryWorker>;

  before(async () => {
    api = await createApiFixture("webhooks");
    receiver = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk) => (body += chunk));
      request.on("end", () => {
        if (failNext > 0) {
          failNext -= 1;
          response.writeHead(500).end();
          return;
        }
        received.push({ header: request.headers["stablerail-signature"] as string | undefined, body });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    queue = createWebhookQueue({ redisUrl: TEST_REDIS_URL, prefix: api.redisPrefix });
    worker = createWebhookDeliveryWorker({
      database: api.database,
      redisUrl: TEST_REDIS_URL,
      prefix: api.redisPrefix,
      logger: createLogger({ name: "webhooks", level: "silent", format: "json" }),
    });
  });
  after(async () => {
    await worker.close();
    await queue.close();
    receiver.close();
    await api.close();
  });

  /** One pass of the real dispatcher: indexed events → delivery jobs. */
  const dispatch = () =>
    dispatchChainEvents({
      database: api.database,
      redis: api.redis,
      prefix: api.redisPrefix,
      chainId: 31337,
      queue: queue.queue,
    });

  const waitFor = async (predicate: () => boolean) => {
    while (!predicate()) await new Promise((resolve) => setTimeout(resolve, 25));
  };

  it("delivers a signed event for a payment to the merchant's wallet, logs it, and retries a failing endpoint", async () => {
    const merchant = await api.createUser("merchant");
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    const endpoint = await api.request("POST", "/v1/webhook-endpoints", { key: merchant.key, body: { url } });
    expect(endpoint.status).to.equal(201);
    const secret = endpoint.body.secret as string;
    const wallet = (await api.request("POST", "/v1/wallets", { key: merchant.key })).body as {
      id: string;
      address: Address;
    };

    failNext = 1;
    await api.fund(wallet.address, 1234n);
    await api.indexer.catchUp();
    expect(await dispatch()).to.equal(1);
    // A second pass finds nothing new (cursor advanced), so nothing is delivered twice.
    expect(await dispatch()).to.equal(0);

    await waitFor(() => received.length === 1);
    const [delivery] = received;
    expect(verifyWebhookSignature(delivery!.header, delivery!.body, [secret], Math.floor(Date.now() / 1000))).to.equal(
      true,
    );
    const event = JSON.parse(delivery!.body);
    expect(event.type).to.equal("stablecoin.transfer");
    expect(event.id).to.match(/^evt_0x[0-9a-f]{64}_\d+$/);
    expect(event.data.to).to.equal(wallet.address);
    expect(event.data.value).to.equal("1234");

    const log = await api.request("GET", `/v1/webhook-endpoints/${endpoint.body.id}/deliveries`, { key: merchant.key });
    expect(log.body.items).to.have.length(1);
    expect(log.body.items[0]).to.include({ eventId: event.id, status: "delivered", responseStatus: 204, attempts: 2 });

    const stranger = await api.createUser("merchant", "other merchant");
    expect(
      (await api.request("GET", `/v1/webhook-endpoints/${endpoint.body.id}/deliveries`, { key: stranger.key })).status,
    ).to.equal(404);
  });

  it("signs with both the old and the new secret after a rotation", async () => {
    const merchant = await api.createUser("merchant", "rotating merchant");
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    const endpoint = (await api.request("POST", "/v1/webhook-endpoints", { key: merchant.key, body: { url } })).body;
    const rotated = await api.request("POST", `/v1/webhook-endpoints/${endpoint.id}/rotate-secret`, {
      key: merchant.key,
    });
    expect(rotated.status).to.equal(200);
    const wallet = (await api.request("POST", "/v1/wallets", { key: merchant.key })).body as { address: Address };
    received = [];
    await api.fund(wallet.address, 1n);
    await api.indexer.catchUp();
    await dispatch();
    await waitFor(() => received.length === 1);
    const now = Math.floor(Date.now() / 1000);
    expect(verifyWebhookSignature(received[0]!.header, received[0]!.body, [endpoint.secret], now)).to.equal(true);
    expect(verifyWebhookSignature(received[0]!.header, received[0]!.body, [rotated.body.secret], now)).to.equal(true);
  });

  it("tells the merchant of every step of an escrow payment, also those whose event names only the payer", async () => {
    const merchant = await api.createUser("merchant", "escrow merchant");
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    const endpoint = (await api.request("POST", "/v1/webhook-endpoints", { key: merchant.key, body: { url } })).body;
    const merchantWallet = (await api.request("POST", "/v1/wallets", { key: merchant.key })).body as { id: string };
    const payer = await api.createUser("user", "escrow payer");
    const payerWallet = (await api.request("POST", "/v1/wallets", { key: payer.key })).body as {
      id: string;
      address: Address;
    };
    await api.fund(payerWallet.address, 100n);
    const paymentRequest = (
      await api.request("POST", "/v1/payments", {
        key: merchant.key,
        body: { walletId: merchantWallet.id, amount: "60", reference: "order-1" },
      })
    ).body;
    for (const [key, path, body] of [
      [payer.key, "pay", { walletId: payerWallet.id }],
      [merchant.key, "void", {}],
    ] as const) {
      const response = await api.request("POST", `/v1/payments/${paymentRequest.id}/${path}`, {
        key,
        body,
        idempotencyKey: newIdempotencyKey(),
      });
      expect(response.status, JSON.stringify(response.body)).to.equal(202);
      expect((await api.waitForRelay(response.body.relayId)).state).to.equal("confirmed");
    }
    received = [];
    await api.indexer.catchUp();
    await dispatch();
    const types = () => received.map((delivery) => JSON.parse(delivery.body).type as string);
    await waitFor(() => types().includes("payment_escrow.payment_voided"));
    expect(types()).to.include("payment_escrow.payment_authorized");
    const voided = received.find((delivery) => JSON.parse(delivery.body).type === "payment_escrow.payment_voided")!;
    const { paymentId } = (await api.request("GET", `/v1/payments/${paymentRequest.id}`, { key: merchant.key })).body;
    expect(paymentId).to.match(/^0x[0-9a-f]{64}$/);
    expect(JSON.parse(voided.body).data).to.include({ paymentId, payer: payerWallet.address, amount: "60" });
    const now = Math.floor(Date.now() / 1000);
    expect(verifyWebhookSignature(voided.header, voided.body, [endpoint.secret], now)).to.equal(true);
  });
});
