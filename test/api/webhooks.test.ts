import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

import { expect } from "chai";
import type { FastifyInstance } from "fastify";
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

  describe("fixed test vectors (computed with `openssl dgst -sha256 -hmac`, not with this module)", () => {
    const t = 1_764_064_800;
    const vector = "bff3a0e341e4bd8540199cded6a61cefaf18b1d1f1c0427fe5a23253bada52b0";
    const oldVector = "7449bb0b15a2673af1c92336ad1c63fdb06b1e229f7aaa471726968a72b8ff92";

    it("signs a known body, secret and timestamp to the known header", () => {
      expect(signWebhookPayload(body, ["whsec_test_vector"], t)).to.equal(`t=${t},v1=${vector}`);
      expect(signWebhookPayload(body, ["whsec_test_vector", "whsec_old"], t)).to.equal(
        `t=${t},v1=${vector},v1=${oldVector}`,
      );
    });

    it("accepts the known header and refuses it with t= changed, in the future or past the tolerance", () => {
      const header = `t=${t},v1=${vector}`;
      expect(verifyWebhookSignature(header, body, ["whsec_test_vector"], t + 300)).to.equal(true);
      expect(verifyWebhookSignature(header, body, ["whsec_test_vector"], t - 300)).to.equal(true);
      expect(verifyWebhookSignature(`t=${t + 1},v1=${vector}`, body, ["whsec_test_vector"], t)).to.equal(false);
      expect(verifyWebhookSignature(header, body, ["whsec_test_vector"], t + 301)).to.equal(false);
      // Signed "in the future" by more than the tolerance (a skewed or forged clock).
      expect(verifyWebhookSignature(header, body, ["whsec_test_vector"], t - 301)).to.equal(false);
      expect(verifyWebhookSignature(`t=${t},v1=${vector.toUpperCase()}`, body, ["whsec_test_vector"], t)).to.equal(
        false,
      );
    });
  });

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
      urlPolicy: { allowLoopback: true },
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
  it("lists, reads, changes, disables and deletes endpoints; another merchant gets 404 on each", async () => {
    const merchant = await api.createUser("merchant", "lifecycle merchant");
    const stranger = await api.createUser("merchant", "lifecycle stranger");
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    const created = (await api.request("POST", "/v1/webhook-endpoints", { key: merchant.key, body: { url } })).body;
    expect(created).to.include({ url, enabled: true });
    const listed = await api.request("GET", "/v1/webhook-endpoints", { key: merchant.key });
    expect(listed.body.items.map((e: { id: string }) => e.id)).to.deep.equal([created.id]);
    expect(JSON.stringify(listed.body)).to.not.include(created.secret);
    expect((await api.request("GET", "/v1/webhook-endpoints", { key: stranger.key })).body.items).to.deep.equal([]);

    const path = `/v1/webhook-endpoints/${created.id}`;
    for (const [method, suffix, body] of [
      ["GET", "", undefined],
      ["PATCH", "", { enabled: false }],
      ["DELETE", "", undefined],
      ["POST", "/rotate-secret", undefined],
      ["GET", "/deliveries", undefined],
    ] as const) {
      const response = await api.request(method, `${path}${suffix}`, { key: stranger.key, body });
      expect(response.status, `${method} ${suffix}`).to.equal(404);
      expect(response.body.error.code).to.equal("WEBHOOK_ENDPOINT_NOT_FOUND");
    }

    const moved = await api.request("PATCH", path, { key: merchant.key, body: { url: `${url}/v2` } });
    expect(moved.status, JSON.stringify(moved.body)).to.equal(200);
    expect(moved.body.url).to.equal(`${url}/v2`);
    const refused = await api.request("PATCH", path, { key: merchant.key, body: { url: "https://169.254.169.254/" } });
    expect(refused.status).to.equal(400);
    expect(refused.body.error.code).to.equal("WEBHOOK_URL_FORBIDDEN");

    const wallet = (await api.request("POST", "/v1/wallets", { key: merchant.key })).body as { address: Address };
    expect((await api.request("PATCH", path, { key: merchant.key, body: { enabled: false } })).body.enabled).to.equal(
      false,
    );
    await api.fund(wallet.address, 5n);
    await api.indexer.catchUp();
    expect(await dispatch()).to.equal(0);

    expect((await api.request("DELETE", path, { key: merchant.key })).status).to.equal(204);
    expect((await api.request("GET", path, { key: merchant.key })).status).to.equal(404);
  });
});

describe("Webhook URLs (SSRF)", () => {
  let api: ApiFixture;
  let strict: FastifyInstance;
  let merchant: { id: string; key: string };
  before(async () => {
    api = await createApiFixture("webhook_urls");
    // An API process as in production: no loopback (the fixture's own allows it for its receivers).
    strict = await api.buildAnotherApp(undefined, { webhookUrlPolicy: { allowLoopback: false } });
    merchant = await api.createUser("merchant", "ssrf merchant");
  });
  after(async () => {
    await api.close();
  });

  const register = (url: string, via = strict) =>
    api.request("POST", "/v1/webhook-endpoints", { key: merchant.key, body: { url }, via });

  it("refuses loopback, private, link-local, metadata and non-https URLs with 400 WEBHOOK_URL_FORBIDDEN", async () => {
    for (const url of [
      "http://127.0.0.1:6379/",
      "https://127.0.0.1:6379/",
      "https://localhost/hook",
      "https://[::1]/",
      "https://[::ffff:127.0.0.1]/",
      "https://[::ffff:a9fe:a9fe]/",
      "http://169.254.169.254/latest/meta-data/",
      "https://169.254.169.254/",
      "https://10.0.0.7/",
      "https://172.16.5.4/",
      "https://192.168.1.1/",
      "https://100.64.0.1/",
      "https://0.0.0.0/",
      "https://[fd00:ec2::254]/",
      "https://[fe80::1]/",
      "http://example.com/hook",
      "https://user:secret@example.com/hook",
      "ftp://example.com/",
    ]) {
      const response = await register(url);
      expect(response.status, url).to.equal(400);
      expect(response.body.error.code, url).to.equal("WEBHOOK_URL_FORBIDDEN");
    }
  });

  it("with WEBHOOK_ALLOW_LOOPBACK accepts http on loopback only, never a private or metadata address", async () => {
    expect((await register("http://127.0.0.1:4000/hook", api.app)).status).to.equal(201);
    for (const url of ["http://169.254.169.254/", "https://10.0.0.7/", "http://example.com/hook"]) {
      expect((await register(url, api.app)).body.error.code, url).to.equal("WEBHOOK_URL_FORBIDDEN");
    }
  });

  it("checks the address again at delivery: an endpoint registered on loopback is not delivered to where loopback is refused", async () => {
    let hits = 0;
    const target = createServer((_request, response) => {
      hits += 1;
      response.writeHead(204).end();
    });
    await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(target.address() as AddressInfo).port}/hook`;
    const endpoint = (await register(url, api.app)).body;
    const queue = createWebhookQueue({ redisUrl: TEST_REDIS_URL, prefix: api.redisPrefix });
    const worker = createWebhookDeliveryWorker({
      database: api.database,
      redisUrl: TEST_REDIS_URL,
      prefix: api.redisPrefix,
      logger: createLogger({ name: "webhooks", level: "silent", format: "json" }),
      urlPolicy: { allowLoopback: false },
    });
    try {
      const job = await queue.queue.add(
        "deliver",
        {
          endpointId: endpoint.id,
          event: { id: "evt_ssrf", type: "test", createdAt: new Date().toISOString(), data: {} },
        },
        { attempts: 1 },
      );
      while (!(await job.isFailed())) await new Promise((resolve) => setTimeout(resolve, 25));
      expect(hits).to.equal(0);
      const log = await api.request("GET", `/v1/webhook-endpoints/${endpoint.id}/deliveries`, { key: merchant.key });
      expect(log.body.items[0]).to.include({ eventId: "evt_ssrf", status: "failed", responseStatus: null });
    } finally {
      await worker.close();
      await queue.close();
      target.close();
    }
  });
});
