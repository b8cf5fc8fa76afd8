import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

import { expect } from "chai";
import type { Page } from "playwright-core";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import type { Address } from "viem";

import { injectWallet, signedText } from "./helpers/injected-wallet.ts";
import { checkPage, signInWithKey, startUiStack, type UiStack } from "./helpers/ui-stack.ts";

/**
 * The wallet web app in Chromium for a merchant and a self-custody payer, on the real stack: the
 * merchant creates a payment request and a webhook endpoint; the payer, with an EIP-1193 wallet
 * injected before load (a local key), connects it, signs in with Ethereum and pays from the link;
 * the merchant captures part, refunds part and sees the webhook deliveries; another merchant's
 * session cannot capture or refund it.
 */
const UNIT = 1_000_000n;
type Request = Awaited<ReturnType<typeof injectWallet>>;

describe("Wallet web app: a self-custody payer and a merchant (Chromium)", function () {
  this.timeout(180_000);
  let stack: UiStack;
  let receiver: Server;
  const received: { type: string }[] = [];
  let merchantPage: Page;
  let payerPage: Page;
  let walletRequests: Request;
  const payerAccount = privateKeyToAccount(generatePrivateKey());
  let merchant: { id: string; key: string };
  let merchantWallet: { id: string; address: Address };
  let paymentRequestId: string;

  const payment = async () =>
    (await stack.api.request("GET", `/v1/payments/${paymentRequestId}`, { key: merchant.key })).body as {
      payment: { held: string; captured: string; refunded: string } | null;
    };

  before(async () => {
    stack = await startUiStack("ui_merchant");
    receiver = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => (body += chunk.toString()));
      request.on("end", () => {
        received.push(JSON.parse(body) as { type: string });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    merchant = await stack.api.createUser("merchant", "Corner Shop");
    merchantPage = await stack.newPage();
    payerPage = await stack.newPage();
    walletRequests = await injectWallet(payerPage, payerAccount, 31337);
  });

  after(async () => {
    receiver?.close();
    await stack?.close();
  });

  it("lets a merchant create a wallet, a webhook endpoint and a payment request with its link", async () => {
    await signInWithKey(merchantPage, merchant.key);
    await merchantPage.getByRole("heading", { name: "Payments", level: 1 }).waitFor();
    await merchantPage.getByRole("button", { name: "Create a custodial wallet" }).click();
    await merchantPage.getByRole("heading", { name: "New payment request" }).waitFor();
    merchantWallet = (
      (await stack.api.request("GET", "/v1/wallets", { key: merchant.key })).body as {
        items: { id: string; address: Address }[];
      }
    ).items[0]!;

    await merchantPage.getByRole("link", { name: "Webhooks" }).click();
    await merchantPage
      .getByLabel("Endpoint URL", { exact: true })
      .fill(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`);
    await merchantPage.getByRole("button", { name: "Add endpoint" }).click();
    await merchantPage.getByText("Signing secret (shown once").waitFor();
    await merchantPage.getByText("No deliveries yet").waitFor();
    await checkPage(merchantPage, "merchant-webhooks");

    await merchantPage.getByRole("link", { name: "Payments" }).click();
    await merchantPage.getByLabel(/^Amount/).fill("10");
    await merchantPage.getByLabel("Reference", { exact: true }).fill("order-1");
    await merchantPage.getByRole("button", { name: "Create payment request" }).click();
    await merchantPage.getByRole("status").filter({ hasText: "Created order-1" }).waitFor();
    const href = await merchantPage.locator('.payment-link a[href^="/pay/"]').getAttribute("href");
    paymentRequestId = href!.split("/").pop()!;
    await merchantPage.getByRole("table", { name: "Newest first" }).getByRole("link", { name: "order-1" }).waitFor();
    await checkPage(merchantPage, "merchant-payments");
  });

  it("lets a payer connect an injected wallet, sign in with Ethereum and pay the request from its link", async () => {
    const payer = await stack.api.createUser("user", "Pat Payer");
    await signInWithKey(payerPage, payer.key);
    await payerPage.getByRole("button", { name: "Connect a self-custody wallet" }).click();
    await payerPage.getByText("Self-custody (your wallet signs)").waitFor();
    await payerPage.getByRole("button", { name: "Sign out" }).click();
    await payerPage.getByRole("heading", { name: "Sign in", level: 1 }).waitFor();

    await payerPage.getByRole("button", { name: "Sign in with Ethereum" }).click();
    await payerPage.getByRole("button", { name: "Sign out" }).waitFor();
    const siwe = walletRequests.filter((r) => r.method === "personal_sign").map(signedText);
    expect(siwe).to.have.length(2);
    expect(siwe[1]).to.contain(`${new URL(stack.origin).host} wants you to sign in with your Ethereum account:`);
    expect(siwe[1]).to.contain(payerAccount.address);
    expect(
      await payerPage.evaluate(
        () => (JSON.parse(sessionStorage.getItem("stablerail.session")!) as { via: string }).via,
      ),
    ).to.equal("siwe");

    await stack.api.fund(payerAccount.address, 20n * UNIT);
    await stack.api.indexer.catchUp();
    await payerPage.goto(`/pay/${paymentRequestId}`);
    await payerPage.getByTestId("pay-amount").getByText("10.00").waitFor();
    await payerPage.getByRole("button", { name: "Review and sign" }).click();
    await payerPage.getByRole("heading", { name: "Check before you sign" }).waitFor();
    await checkPage(payerPage, "pay-review");
    await payerPage.getByRole("button", { name: "Sign in wallet and pay" }).click();
    await payerPage.getByRole("status").filter({ hasText: "Payment of 10.00" }).waitFor();

    const signed = walletRequests.filter((r) => r.method === "eth_signTypedData_v4");
    expect(signed).to.have.length(1);
    const typed = JSON.parse(signed[0]!.params![1] as string) as { primaryType: string; message: { value: string } };
    expect(typed.primaryType).to.equal("ReceiveWithAuthorization");
    expect(String(typed.message.value)).to.equal((10n * UNIT).toString());

    await stack.settle();
    await payerPage.locator('[role=status] [data-status="indexed"]').waitFor();
    expect(await stack.api.balanceOf(payerAccount.address)).to.equal(10n * UNIT);
    expect((await payment()).payment).to.include({ held: (10n * UNIT).toString() });
  });

  it("lets the merchant capture part and refund part, each settling on the page without a reload", async () => {
    await merchantPage.getByRole("link", { name: "Open this payment" }).click();
    await merchantPage.getByRole("heading", { name: "Payment order-1", level: 1 }).waitFor();
    await merchantPage.getByTestId("payment-held").getByText("10.00").waitFor();
    await checkPage(merchantPage, "merchant-payment");

    await merchantPage.getByLabel(/^Capture amount/).fill("6");
    await merchantPage.getByRole("button", { name: "Capture", exact: true }).click();
    await merchantPage.getByRole("status").filter({ hasText: "capture of 6.00" }).waitFor();
    await stack.settle();
    await merchantPage.getByTestId("payment-captured").getByText("6.00").waitFor();
    await merchantPage.getByTestId("payment-held").getByText("4.00").waitFor();

    await merchantPage.getByLabel(/^Refund amount/).fill("2.5");
    await merchantPage.getByRole("button", { name: "Refund", exact: true }).click();
    await merchantPage.getByRole("status").filter({ hasText: "refund of 2.50" }).waitFor();
    await stack.settle();
    await merchantPage.getByTestId("payment-refunded").getByText("2.50").waitFor();

    expect((await payment()).payment).to.include({
      held: (4n * UNIT).toString(),
      captured: (6n * UNIT).toString(),
      refunded: (2n * UNIT + UNIT / 2n).toString(),
    });
    expect(await stack.api.balanceOf(merchantWallet.address)).to.equal(3n * UNIT + UNIT / 2n);
    expect(await stack.api.balanceOf(payerAccount.address)).to.equal(12n * UNIT + UNIT / 2n);
  });

  it("shows the merchant the signed webhook deliveries of its payment", async () => {
    while ((await stack.dispatchWebhooks()) > 0);
    while (received.length === 0) await new Promise((resolve) => setTimeout(resolve, 25));
    await merchantPage.getByRole("link", { name: "Webhooks" }).click();
    await merchantPage.getByRole("button", { name: "Reload deliveries" }).click();
    await merchantPage.locator('tr[data-delivery-status="delivered"]').first().waitFor();
    const shown = await merchantPage.locator("tr[data-delivery-status] td:first-child").allInnerTexts();
    for (const event of received) expect(shown.join("\n")).to.contain(event.type);
    await checkPage(merchantPage, "merchant-webhooks-delivered");
  });

  it("lets another merchant's session neither capture nor refund this payment", async () => {
    const eve = await stack.api.createUser("merchant", "Eve");
    await stack.api.request("POST", "/v1/wallets", { key: eve.key });
    const intruder = await stack.newPage();
    await signInWithKey(intruder, eve.key, `/merchant/payments/${paymentRequestId}`);
    await intruder.getByRole("alert").waitFor();
    expect(await intruder.getByTestId("payment-held").count()).to.equal(0);

    const relaysBefore = await stack.api.relayCount();
    // No named function inside: the test runner's transpiler would decorate it with a helper the page lacks.
    const statuses = await intruder.evaluate(async (id) => {
      const token = (JSON.parse(sessionStorage.getItem("stablerail.session")!) as { token: string }).token;
      const attempts: [string, unknown][] = [
        [`/v1/payments/${id}/captures`, { amount: "4000000" }],
        [`/v1/payments/${id}/refunds`, { amount: "1000000" }],
        [`/v1/payments/${id}/void`, {}],
      ];
      const answers: number[] = [];
      for (const [path, body] of attempts) {
        const response = await fetch(path, {
          method: "POST",
          headers: {
            authorization: `Bearer ${token}`,
            "content-type": "application/json",
            "idempotency-key": `intruder-${answers.length}-${Date.now()}`,
          },
          body: JSON.stringify(body),
        });
        answers.push(response.status);
      }
      return answers;
    }, paymentRequestId);
    for (const status of statuses) expect(status).to.be.within(400, 499);
    await stack.settle();
    expect(await stack.api.relayCount()).to.equal(relaysBefore);
    expect((await payment()).payment).to.include({
      held: (4n * UNIT).toString(),
      captured: (6n * UNIT).toString(),
      refunded: (2n * UNIT + UNIT / 2n).toString(),
    });
  });
});
