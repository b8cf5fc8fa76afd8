import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

import { expect } from "chai";
import type { Page } from "playwright-core";
import type { Address } from "viem";

import { dispatchChainEvents } from "../../../api/webhooks/dispatch-chain-events.ts";
import { createWebhookQueue } from "../../../api/webhooks/webhook-queue.ts";
import { TEST_REDIS_URL } from "../../api/helpers/api-fixture.ts";
import { signInWithKey, startUiStack, type UiStack } from "./helpers/ui-stack.ts";

/**
 * A merchant retries a failed webhook delivery in the web app (Chromium against the real API,
 * chain, indexer, dispatcher and delivery worker): the receiver refuses the event, the delivery
 * shows failed with a Retry button, the receiver comes back, Retry is clicked and the row moves to
 * delivered — the event arrived once more, and only once.
 */
describe("Wallet web app: a merchant retries a failed webhook delivery (Chromium)", function () {
  this.timeout(90_000);
  let stack: UiStack;
  let page: Page;
  let receiver: Server;
  let failing = true;
  const received: string[] = [];
  // One attempt per job, so the delivery is failed for good at once (the stack's own queue tries ten times).
  let queue: ReturnType<typeof createWebhookQueue>;

  before(async () => {
    stack = await startUiStack("ui_webhook_retry");
    queue = createWebhookQueue({ redisUrl: TEST_REDIS_URL, prefix: stack.api.redisPrefix, attempts: 1 });
    receiver = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk) => (body += chunk));
      request.on("end", () => {
        if (failing) return void response.writeHead(503).end();
        received.push(body);
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    page = await stack.newPage();
  });

  after(async () => {
    await queue?.close();
    receiver?.close();
    await stack?.close();
  });

  it("shows a failed delivery with a Retry button, and after Retry the delivery as delivered", async () => {
    const merchant = await stack.api.createUser("merchant", "Rita Retry");
    const wallet = (await stack.api.request("POST", "/v1/wallets", { key: merchant.key })).body as {
      address: Address;
    };
    await signInWithKey(page, merchant.key);
    await page.getByRole("link", { name: "Webhooks" }).click();
    await page
      .getByLabel("Endpoint URL", { exact: true })
      .fill(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`);
    await page.getByRole("button", { name: "Add endpoint" }).click();
    await page.getByText("No deliveries yet").waitFor();

    await stack.api.fund(wallet.address, 5_000_000n);
    await stack.api.indexer.catchUp();
    const dispatch = () =>
      dispatchChainEvents({
        database: stack.api.database,
        redis: stack.api.redis,
        prefix: stack.api.redisPrefix,
        chainId: 31337,
        queue: queue.queue,
      });
    while ((await dispatch()) > 0);
    while ((await queue.queue.getJobCounts("failed")).failed === 0) await new Promise((r) => setTimeout(r, 25));

    await page.getByRole("button", { name: "Reload deliveries" }).click();
    const failed = page.locator('tr[data-delivery-status="failed"]');
    await failed.waitFor();
    expect(await failed.getByRole("cell").nth(1).innerText()).to.equal("Failed (gave up)");

    failing = false;
    await failed.getByRole("button", { name: "Retry" }).click();
    // The list reloads with the retry's answer (queued) or, if the worker was quicker, delivered.
    const moved = page.locator('tr[data-delivery-status="queued"], tr[data-delivery-status="delivered"]');
    await moved.waitFor();
    const delivered = page.locator('tr[data-delivery-status="delivered"]');
    while ((await delivered.count()) === 0) {
      await page.getByRole("button", { name: "Reload deliveries" }).click();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await page.locator('tr[data-delivery-status="failed"]').count()).to.equal(0);
    expect(await delivered.getByRole("button", { name: "Retry" }).count()).to.equal(0);
    expect(received).to.have.length(1);
  });
});
