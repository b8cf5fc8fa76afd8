import { expect } from "chai";
import type { Page } from "playwright-core";
import { generate } from "otplib";
import type { Address } from "viem";

import { checkPage, signInWithKey, startUiStack, type UiStack } from "./helpers/ui-stack.ts";

/**
 * The wallet web app in Chromium for a custodial holder, on the real stack (chain, relayer workers,
 * indexer, database, Redis, API): sign in, receive, send to another user and watch the movement
 * settle without a reload; bad input shows the API's reason and moves nothing; another user's
 * session cannot move this wallet's money from the same app; password sign-up and sign-in with a
 * second factor; then an auditor reconciles what happened, and the operator's page shows.
 */
const UNIT = 1_000_000n; // the token's 6 decimals
type Wallet = { id: string; address: Address };

describe("Wallet web app: a custodial holder (Chromium)", function () {
  this.timeout(180_000);
  let stack: UiStack;
  let alice: { id: string; key: string };
  let bob: { id: string; key: string };
  let bobWallet: Wallet;
  let aliceWallet: Wallet;
  let page: Page;

  /** The page's own marker: still there means the page was never reloaded. */
  // (page.evaluate callbacks run in the page; the test type check has no DOM types, hence globalThis.)
  const markPage = () => page.evaluate(() => ((globalThis as unknown as { __noReload: boolean }).__noReload = true));
  const notReloaded = () =>
    page.evaluate(() => (globalThis as unknown as { __noReload?: boolean }).__noReload === true);

  before(async () => {
    stack = await startUiStack("ui_custodial");
    alice = await stack.api.createUser("user", "Alice Holder");
    bob = await stack.api.createUser("user", "Bob Payee");
    bobWallet = (await stack.api.request("POST", "/v1/wallets", { key: bob.key })).body as Wallet;
    page = await stack.newPage();
  });

  after(async () => {
    await stack?.close();
  });

  it("serves the app at / on the API origin: the sign-in page, with a strict CSP and the first load under budget", async () => {
    const response = await page.goto("/");
    expect(response?.status()).to.equal(200);
    expect(response?.headers()["content-security-policy"]).to.contain("script-src 'self'");
    await page.getByRole("heading", { name: "Sign in", level: 1 }).waitFor();
    await checkPage(page, "sign-in");
  });

  it("signs in with an API key, creates a wallet, and shows funds arriving without a reload", async () => {
    await signInWithKey(page, alice.key);
    await page.getByRole("heading", { name: "Wallet", level: 1 }).waitFor();
    await page.getByRole("button", { name: "Create a custodial wallet" }).click();
    await page.getByRole("heading", { name: "Balance" }).waitFor();
    const wallets = (await stack.api.request("GET", "/v1/wallets", { key: alice.key })).body as { items: Wallet[] };
    expect(wallets.items).to.have.length(1);
    aliceWallet = wallets.items[0]!;
    await page.getByTestId("balance").getByText("0.00").waitFor();
    await markPage();

    await stack.api.fund(aliceWallet.address, 25n * UNIT);
    await stack.api.indexer.catchUp();
    await page.getByTestId("balance").getByText("25.00").waitFor();
    await page.getByRole("table", { name: "Settled in the ledger, newest first" }).getByText("+25.00").waitFor();
    expect(await notReloaded()).to.equal(true);
    await checkPage(page, "wallet");
  });

  it("sends 7.5 to another user and shows it pending, then settled, without a reload", async () => {
    await page.getByLabel("Recipient address", { exact: true }).fill(bobWallet.address);
    await page.getByLabel(/^Amount/).fill("7.5");
    await page.getByRole("button", { name: "Send", exact: true }).click();
    await page.getByRole("status").filter({ hasText: "Sending 7.50" }).waitFor();

    // The indexer only moves when told (follow: false), so the movement cannot be settled yet. It may
    // still be "pending" (the door recorded it and the risk decision let it through, the relay not yet
    // queued): under load the live snapshot can arrive in that instant.
    const row = page.locator("tr[data-movement]").first();
    await row.waitFor();
    const before = await row.locator("[data-status]").getAttribute("data-status");
    expect(["pending", "queued", "submitted", "confirmed"]).to.include(before);
    await page.getByText("1 movement(s) still settling.").waitFor();

    await stack.settle();
    await row.locator('[data-status="indexed"]').waitFor();
    await page.getByTestId("balance").getByText("17.50").waitFor();
    await page.getByRole("table", { name: "Settled in the ledger, newest first" }).getByText("−7.50").waitFor();
    expect(await notReloaded()).to.equal(true);
    expect(await stack.api.balanceOf(bobWallet.address)).to.equal(7n * UNIT + UNIT / 2n);
    expect(await stack.api.balanceOf(aliceWallet.address)).to.equal(17n * UNIT + UNIT / 2n);
  });

  it("shows the reason for a bad address, too many decimals and an amount over the balance, and moves nothing", async () => {
    const relaysBefore = await stack.api.relayCount();
    const send = async (to: string, amount: string) => {
      await page.getByLabel("Recipient address", { exact: true }).fill(to);
      await page.getByLabel(/^Amount/).fill(amount);
      await page.getByRole("button", { name: "Send", exact: true }).click();
    };
    const sendError = page.locator("#send-error [role=alert]");

    await send("0x1234", "1");
    await sendError.getByText("VALIDATION_FAILED").waitFor();
    expect(await sendError.locator(".error-issues").innerText()).to.match(/^to: /);

    await send(bobWallet.address, "1.1234567");
    await page
      .locator("#send-amount-problem")
      .getByText("This token has 6 decimal places; use at most 6 digits after the point.")
      .waitFor();
    expect(await page.getByLabel(/^Amount/).getAttribute("aria-invalid")).to.equal("true");

    await send(bobWallet.address, "1000");
    await sendError.getByText("INSUFFICIENT_BALANCE").waitFor();
    const reason = await sendError.locator(".error-reason").innerText();
    expect(reason.length, "the API's own reason is shown").to.be.greaterThan(0);
    await checkPage(page, "wallet-send-refused");

    await stack.settle();
    expect(await stack.api.relayCount()).to.equal(relaysBefore);
    expect(await stack.api.balanceOf(aliceWallet.address)).to.equal(17n * UNIT + UNIT / 2n);
    expect(await stack.api.balanceOf(bobWallet.address)).to.equal(7n * UNIT + UNIT / 2n);
    await page.getByTestId("balance").getByText("17.50").waitFor();
  });

  it("lets another user's session, in the same app, neither see nor move this wallet's money", async () => {
    const mallory = await stack.api.createUser("user", "Mallory");
    const malloryWallet = (await stack.api.request("POST", "/v1/wallets", { key: mallory.key })).body as Wallet;
    const intruder = await stack.newPage();
    await signInWithKey(intruder, mallory.key, `/wallet/${aliceWallet.id}`);
    // The app shows Mallory her own wallet, never Alice's, whatever the link says.
    await intruder.getByText(malloryWallet.address.slice(0, 8)).first().waitFor();
    expect(await intruder.getByText(aliceWallet.address.slice(2, 12), { exact: false }).count()).to.equal(0);

    const relaysBefore = await stack.api.relayCount();
    const attempt = await intruder.evaluate(
      async ({ walletId, to }) => {
        const token = (JSON.parse(sessionStorage.getItem("stablerail.session")!) as { token: string }).token;
        const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
        const transfer = await fetch(`/v1/wallets/${walletId}/transfers`, {
          method: "POST",
          headers: { ...headers, "idempotency-key": `intruder-${Date.now()}` },
          body: JSON.stringify({ to, amount: "1000000" }),
        });
        const stream = await fetch(`/v1/events/wallets/${walletId}`, { headers });
        return {
          transfer: { status: transfer.status, body: (await transfer.json()) as { error: { code: string } } },
          stream: stream.status,
        };
      },
      { walletId: aliceWallet.id, to: malloryWallet.address },
    );
    expect(attempt.transfer.status).to.equal(404);
    expect(attempt.transfer.body.error.code).to.equal("WALLET_NOT_FOUND");
    expect(attempt.stream).to.equal(404);
    await stack.settle();
    expect(await stack.api.relayCount()).to.equal(relaysBefore);
    expect(await stack.api.balanceOf(aliceWallet.address)).to.equal(17n * UNIT + UNIT / 2n);
    expect(await stack.api.balanceOf(malloryWallet.address)).to.equal(0n);
  });

  it("shows the security page (sessions and API keys) accessibly", async () => {
    await page.getByRole("link", { name: "Security" }).click();
    await page.getByRole("heading", { name: "Security", level: 1 }).waitFor();
    await checkPage(page, "security");
  });

  it("signs up with email and password, turns on an authenticator app, and signs in again with a recovery code", async () => {
    const newcomer = await stack.newPage();
    await newcomer.goto("/sign-up");
    await newcomer.getByRole("heading", { name: "Create your account", level: 1 }).waitFor();
    await checkPage(newcomer, "sign-up");
    await newcomer.getByLabel("Your name", { exact: true }).fill("Nora Newcomer");
    await newcomer.getByLabel("Email", { exact: true }).fill("nora@example.com");
    await newcomer.getByLabel("Password", { exact: true }).fill("correct horse battery staple");
    await newcomer.getByRole("button", { name: "Create account" }).click();
    await newcomer.getByRole("heading", { name: "Wallet", level: 1 }).waitFor();

    await newcomer.getByRole("link", { name: "Security" }).click();
    await newcomer.getByRole("button", { name: "Set up an authenticator app" }).click();
    const secret = await newcomer.locator("form code").first().innerText();
    await newcomer.getByLabel("The 6-digit code it shows", { exact: true }).fill(await generate({ secret }));
    await newcomer.getByRole("button", { name: "Turn on" }).click();
    // allInnerTexts does not wait: read the codes once the answer has rendered them (CI read none once).
    await newcomer.locator("ul.codes code").first().waitFor();
    const recoveryCodes = await newcomer.locator("ul.codes code").allInnerTexts();
    expect(recoveryCodes).to.have.length(10);
    await newcomer.getByRole("button", { name: "Sign out" }).click();

    await newcomer.getByLabel("Email", { exact: true }).fill("nora@example.com");
    await newcomer.getByLabel("Password", { exact: true }).fill("not the password at all");
    await newcomer.getByRole("button", { name: "Sign in with password" }).click();
    const refused = newcomer.getByRole("alert");
    await refused.waitFor();
    expect(await refused.locator(".error-code code").innerText()).to.match(/^[A-Z_]+$/);
    expect(await newcomer.getByRole("button", { name: "Sign out" }).count()).to.equal(0);

    await newcomer.getByLabel("Password", { exact: true }).fill("correct horse battery staple");
    await newcomer.getByRole("button", { name: "Sign in with password" }).click();
    await newcomer.getByLabel("Code from your authenticator app", { exact: true }).fill(recoveryCodes[0]!);
    await newcomer.getByRole("button", { name: "Continue" }).click();
    await newcomer.getByRole("button", { name: "Sign out" }).waitFor();
    expect(
      await newcomer.evaluate(() => (JSON.parse(sessionStorage.getItem("stablerail.session")!) as { via: string }).via),
    ).to.equal("password");
  });

  it("lets an auditor reconcile the ledger with the chain, verify the journal chain and build the proof of reserves", async () => {
    const auditor = await stack.api.createUser("auditor", "Ada Auditor");
    const desk = await stack.newPage();
    await signInWithKey(desk, auditor.key);
    await desk.getByRole("heading", { name: "Audit", level: 1 }).waitFor();

    await desk.getByRole("button", { name: "Run reconciliation" }).click();
    const report = desk.getByTestId("reconciliation-report");
    await report.getByText("Clean: the ledger agrees with the chain.").waitFor();
    expect(await report.getAttribute("data-ok")).to.equal("true");

    await desk.getByRole("button", { name: "Verify the journal's hash chain" }).click();
    await desk.getByText("Intact: every row recomputes to the stored head.").waitFor();

    // Custodial liabilities: Alice's 17.5 and Bob's 7.5 (Mallory holds nothing).
    await desk.getByRole("button", { name: "Build the proof of reserves" }).click();
    await desk.getByTestId("reserves-report").getByText("25.00").first().waitFor();
    await checkPage(desk, "audit");

    await desk.getByLabel("At block", { exact: true }).fill("999999");
    await desk.getByRole("button", { name: "Run reconciliation" }).click();
    await desk.getByRole("alert").getByText("AUDIT_BLOCK_NOT_INDEXED").waitFor();
  });

  it("shows the operator's page accessibly", async () => {
    const operator = await stack.api.createUser("operator", "Oscar Operator");
    const desk = await stack.newPage();
    await signInWithKey(desk, operator.key);
    await desk.getByRole("heading", { name: "Operations", level: 1 }).waitFor();
    await checkPage(desk, "operator");
  });
});
