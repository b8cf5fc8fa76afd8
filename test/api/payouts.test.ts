import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

import { expect } from "chai";
import { getAddress, keccak256, stringToHex, type Address } from "viem";

import { startWebhooks } from "../../api/webhooks/start-webhooks.ts";
import { verifyWebhookSignature } from "../../api/webhooks/signature.ts";
import { createLogger } from "../../lib/logging/logger.ts";
import { ONE } from "../helpers/stablecoin.ts";
import { createApiFixture, newIdempotencyKey, TEST_REDIS_URL, type ApiFixture } from "./helpers/api-fixture.ts";

type Wallet = { id: string; address: Address };
type Response = Awaited<ReturnType<ApiFixture["request"]>>;

/**
 * Batched merchant payouts from the settlement treasury over HTTP, through the real relayer
 * (Settlement.payout sent by the operator key), the indexer's ledger and the merchants' webhooks.
 */
describe("/v1/payouts", () => {
  let api: ApiFixture;
  let operator: { id: string; key: string };
  let shop: { id: string; key: string };
  let shopWallet: Wallet;
  let bakeryWallet: Wallet;
  const external = getAddress("0x00000000000000000000000000000000000cafe1");
  let receiver: Server;
  const received: { header: string | undefined; body: string }[] = [];
  let webhooks: { close: () => Promise<void> };

  const payout = (body: unknown, key = operator.key, idempotencyKey: string | null = newIdempotencyKey()) =>
    api.request("POST", "/v1/payouts", { key, body, ...(idempotencyKey ? { idempotencyKey } : {}) });

  let relayedBefore = 0;
  let treasuryBefore = 0n;
  const expectRefused = async (response: Response, status: number, code: string) => {
    expect(response.status, JSON.stringify(response.body)).to.equal(status);
    expect(response.body.error.code).to.equal(code);
    expect(await api.relayCount()).to.equal(relayedBefore);
    expect(await api.balanceOf(api.contracts.settlement)).to.equal(treasuryBefore);
  };

  before(async () => {
    api = await createApiFixture("payouts");
    operator = await api.createUser("operator", "treasury desk");
    shop = await api.createUser("merchant", "shop");
    const bakery = await api.createUser("merchant", "bakery");
    shopWallet = (await api.request("POST", "/v1/wallets", { key: shop.key })).body;
    bakeryWallet = (await api.request("POST", "/v1/wallets", { key: bakery.key })).body;
    await api.fund(api.contracts.settlement, 100n * ONE);

    receiver = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk) => (body += chunk));
      request.on("end", () => {
        received.push({ header: request.headers["stablerail-signature"] as string | undefined, body });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    webhooks = startWebhooks({
      database: api.database,
      redisUrl: TEST_REDIS_URL,
      prefix: api.redisPrefix,
      chainId: 31337,
      logger: createLogger({ name: "webhooks", level: "silent", format: "json" }),
      settings: { dispatchIntervalMs: 50, timeoutMs: 2_000, concurrency: 4, allowLoopback: true },
    });
  });
  beforeEach(async () => {
    await api.settleRelays();
    relayedBefore = await api.relayCount();
    treasuryBefore = await api.balanceOf(api.contracts.settlement);
  });
  after(async () => {
    await webhooks.close();
    receiver.close();
    await api.close();
  });

  it("pays several merchants in one transaction, shows the batch indexed and notifies each merchant's endpoint", async () => {
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    const endpoint = (await api.request("POST", "/v1/webhook-endpoints", { key: shop.key, body: { url } })).body;
    const batchId = keccak256(stringToHex(`payouts-${newIdempotencyKey()}`));
    const key = newIdempotencyKey();
    const body = {
      batchId,
      items: [
        { walletId: shopWallet.id, amount: (10n * ONE).toString(), reference: "2026-11 sales" },
        { walletId: bakeryWallet.id, amount: (5n * ONE).toString(), reference: "2026-11 sales" },
        { address: external.toLowerCase(), amount: "7", reference: batchId },
      ],
    };
    const response = await payout(body, operator.key, key);
    expect(response.status, JSON.stringify(response.body)).to.equal(202);
    expect(response.body).to.include({ batchId, total: (15n * ONE + 7n).toString(), status: "queued" });
    expect(response.body.items[0]).to.deep.include({
      walletId: shopWallet.id,
      merchant: shopWallet.address,
      payoutReference: keccak256(stringToHex("2026-11 sales")),
    });
    expect(response.body.items[2]).to.deep.include({ walletId: null, merchant: external, payoutReference: batchId });

    const relay = await api.waitForRelay(response.body.relayId);
    expect(relay.state, relay.error).to.equal("confirmed");
    expect(await api.balanceOf(shopWallet.address)).to.equal(10n * ONE);
    expect(await api.balanceOf(bakeryWallet.address)).to.equal(5n * ONE);
    expect(await api.balanceOf(external)).to.equal(7n);
    expect(await api.balanceOf(api.contracts.settlement)).to.equal(treasuryBefore - 15n * ONE - 7n);

    await api.indexer.catchUp();
    const shown = (await api.request("GET", `/v1/payouts/${response.body.id}`, { key: operator.key })).body;
    expect(shown).to.include({ status: "indexed", transactionHash: relay.transactionHash });
    const history = (await api.request("GET", `/v1/wallets/${shopWallet.id}/history`, { key: shop.key })).body;
    expect(history.items[0]).to.include({ kind: "settlement_payout", amount: (10n * ONE).toString() });

    // The same key and body give back the first answer; nothing is paid twice: no second relay is
    // queued (a balance read right away could precede a second relay's send), and once every relay
    // has settled the balances are still those of one payout.
    const relaysBefore = await api.relayCount();
    const replay = await payout(body, operator.key, key);
    expect(replay.status).to.equal(202);
    expect(replay.body.id).to.equal(response.body.id);
    expect(replay.body.relayId).to.equal(response.body.relayId);
    expect(await api.relayCount()).to.equal(relaysBefore);
    await api.settleRelays();
    expect(await api.balanceOf(shopWallet.address)).to.equal(10n * ONE);
    expect(await api.balanceOf(api.contracts.settlement)).to.equal(treasuryBefore - 15n * ONE - 7n);

    // The shop's endpoint receives its payout item, signed; the bakery has no endpoint.
    while (!received.some((delivery) => JSON.parse(delivery.body).type === "settlement.payout_item_paid")) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const delivery = received.find((d) => JSON.parse(d.body).type === "settlement.payout_item_paid")!;
    expect(
      verifyWebhookSignature(delivery.header, delivery.body, [endpoint.secret], Math.floor(Date.now() / 1000)),
    ).to.equal(true);
    const event = JSON.parse(delivery.body);
    expect(event.data).to.include({ batchId, merchant: shopWallet.address, amount: (10n * ONE).toString() });
  });

  it("refuses a batch id already used, by this API or on chain, moving nothing", async () => {
    const batchId = keccak256(stringToHex(`once-${newIdempotencyKey()}`));
    const items = [{ walletId: shopWallet.id, amount: "1", reference: "once" }];
    const first = await payout({ batchId, items });
    expect((await api.waitForRelay(first.body.relayId)).state).to.equal("confirmed");
    await api.settleRelays();
    relayedBefore = await api.relayCount();
    treasuryBefore = await api.balanceOf(api.contracts.settlement);
    const again = await payout({ batchId, items });
    await expectRefused(again, 409, "PAYOUT_BATCH_ALREADY_EXECUTED");
    expect(again.body.error.details).to.deep.equal({ batchId });
  });

  it("refuses bad batches with a clear code and moves nothing", async () => {
    const item = { walletId: shopWallet.id, amount: "1", reference: "r" };
    for (const body of [
      {},
      { items: [] },
      { items: Array.from({ length: 501 }, () => item) },
      { items: [{ ...item, amount: "0" }] },
      { items: [{ ...item, amount: "-1" }] },
      { items: [{ ...item, amount: (2n ** 256n).toString() }] },
      { items: [{ ...item, address: external }] },
      { items: [{ amount: "1", reference: "r" }] },
      { items: [{ address: "0x1234", amount: "1", reference: "r" }] },
      { items: [{ ...item, reference: "" }] },
      { batchId: "0x12", items: [item] },
      { items: [item], extra: true },
    ]) {
      await expectRefused(await payout(body), 400, "VALIDATION_FAILED");
    }
    await expectRefused(await payout({ items: [item] }, operator.key, null), 400, "IDEMPOTENCY_KEY_MISSING");

    const user = await api.createUser("user", "not a merchant");
    const userWallet = (await api.request("POST", "/v1/wallets", { key: user.key })).body as Wallet;
    await expectRefused(
      await payout({ items: [item, { walletId: userWallet.id, amount: "1", reference: "r" }] }),
      400,
      "PAYOUT_WALLET_INVALID",
    );
    await expectRefused(
      await payout({ items: [item, { ...item, walletId: "00000000-0000-4000-8000-000000000000" }] }),
      400,
      "PAYOUT_WALLET_INVALID",
    );
    await expectRefused(
      await payout({ items: [{ ...item, amount: (treasuryBefore + 1n).toString() }] }),
      422,
      "INSUFFICIENT_BALANCE",
    );

    await (await api.roles.token.connect(api.roles.freezer).freeze(bakeryWallet.address)).wait();
    try {
      const frozen = await payout({ items: [item, { walletId: bakeryWallet.id, amount: "1", reference: "r" }] });
      await expectRefused(frozen, 403, "ACCOUNT_FROZEN");
      expect(frozen.body.error.details).to.deep.equal({ index: 1, address: bakeryWallet.address });
    } finally {
      await (await api.roles.token.connect(api.roles.freezer).unfreeze(bakeryWallet.address)).wait();
    }

    // Only operators and admins pay out; merchants and users may not.
    await expectRefused(await payout({ items: [item] }, shop.key), 403, "FORBIDDEN");
    await expectRefused(await payout({ items: [item] }, user.key), 403, "FORBIDDEN");
  });

  it("lists batches newest first with a cursor, for staff only", async () => {
    const a = await payout({ items: [{ walletId: shopWallet.id, amount: "2", reference: "a" }] });
    const b = await payout({ items: [{ walletId: shopWallet.id, amount: "3", reference: "b" }] });
    const page1 = (await api.request("GET", "/v1/payouts?limit=1", { key: operator.key })).body;
    expect(page1.items.map((item: { id: string }) => item.id)).to.deep.equal([b.body.id]);
    const page2 = (await api.request("GET", `/v1/payouts?limit=1&cursor=${page1.nextCursor}`, { key: operator.key }))
      .body;
    expect(page2.items.map((item: { id: string }) => item.id)).to.deep.equal([a.body.id]);
    const auditor = await api.createUser("auditor");
    expect((await api.request("GET", `/v1/payouts/${a.body.id}`, { key: auditor.key })).status).to.equal(200);
    expect((await api.request("GET", "/v1/payouts", { key: shop.key })).status).to.equal(403);
    const missing = await api.request("GET", "/v1/payouts/00000000-0000-4000-8000-000000000000", { key: operator.key });
    expect(missing.status).to.equal(404);
    expect(missing.body.error.code).to.equal("PAYOUT_NOT_FOUND");
  });
});
