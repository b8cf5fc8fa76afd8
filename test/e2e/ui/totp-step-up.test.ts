import { expect } from "chai";
import type { Page } from "playwright-core";
import type { Address } from "viem";

import {
  checkPage,
  PHONE,
  DESKTOP,
  sessionOf,
  signUpWithPassword,
  startUiStack,
  type UiStack,
} from "./helpers/ui-stack.ts";
import { timeStep, totpCode } from "./helpers/totp.ts";

/**
 * The step-up dialog with an authenticator app, in Chromium on the real stack: a holder turns TOTP
 * on from the secret the Security page shows (codes computed here by RFC 6238, no mocks), a
 * transfer above 1,000 asks for a code, a wrong code shows the API's reason and moves nothing, the
 * next right code approves it and the money moves. Also the statement form's fields line up.
 */
const UNIT = 1_000_000n; // the token's 6 decimals
type Wallet = { id: string; address: Address };

describe("Wallet web app: step-up with an authenticator app (Chromium)", function () {
  this.timeout(120_000);
  let stack: UiStack;
  let page: Page;
  let secret: string;
  let enrolledAt: number;
  let wallet: Wallet;
  let bobWallet: Wallet;

  before(async () => {
    stack = await startUiStack("ui_totp", { API_PASSWORD_SCRYPT_LOG2_N: "10" });
    const bob = await stack.api.createUser("user", "Bob Payee");
    bobWallet = (await stack.api.request("POST", "/v1/wallets", { key: bob.key })).body as Wallet;
    page = await stack.newPage();
  });

  after(async () => {
    await stack?.close();
  });

  it("turns on an authenticator app from the secret shown at enrolment", async () => {
    await signUpWithPassword(page, "Tom Totp", "tom@example.com", "correct horse battery staple");
    await page.getByRole("button", { name: "Create a custodial wallet" }).click();
    await page.getByRole("heading", { name: "Balance" }).waitFor();
    const { token } = await sessionOf(page);
    wallet = ((await stack.api.request("GET", "/v1/wallets", { key: token })).body as { items: Wallet[] }).items[0]!;

    await page.getByRole("link", { name: "Security" }).click();
    await page.getByRole("button", { name: "Set up an authenticator app" }).click();
    secret = await page.locator("form code").first().innerText();
    expect(secret).to.match(/^[A-Z2-7]{16,}$/);
    enrolledAt = timeStep();
    await page.getByLabel("The 6-digit code it shows", { exact: true }).fill(totpCode(secret, enrolledAt));
    await page.getByRole("button", { name: "Turn on" }).click();
    await page.locator("ul.codes code").first().waitFor();
    expect(await page.locator("ul.codes code").count()).to.equal(10);
    await page.getByText("Authenticator app: on").waitFor();
  });

  it("lines up the statement form's From and To inputs and its button, at desktop and phone width", async () => {
    await page.getByRole("link", { name: "Wallet" }).click();
    await page.getByRole("heading", { name: "Statement" }).waitFor();
    for (const viewport of [DESKTOP, PHONE]) {
      await page.setViewportSize(viewport);
      const from = (await page.getByLabel("From block", { exact: true }).boundingBox())!;
      const to = (await page.getByLabel("To block", { exact: true }).boundingBox())!;
      const button = (await page.getByRole("button", { name: "Download CSV statement" }).boundingBox())!;
      // Side by side they share a top; stacked on a phone each starts on its own line.
      if (Math.abs(from.y - to.y) < from.height) {
        expect(Math.abs(from.y - to.y), `inputs' tops at ${viewport.width}px`).to.be.below(1);
        expect(Math.abs(from.height - to.height), `inputs' heights at ${viewport.width}px`).to.be.below(1);
        if (Math.abs(button.y - to.y) < to.height)
          expect(Math.abs(button.y - to.y), `button top at ${viewport.width}px`).to.be.below(1);
      } else expect(to.y, `stacked at ${viewport.width}px`).to.be.above(from.y + from.height);
    }
    await page.setViewportSize(DESKTOP);
    await checkPage(page, "wallet-statement");
  });

  it("asks for a code on a transfer above 1,000; a wrong code shows the API's reason and moves nothing; the right one sends it", async () => {
    const { token, minter } = stack.api.roles;
    await (await token.connect(minter).mint(wallet.address, 2_000n * UNIT)).wait();
    await stack.api.indexer.catchUp();
    await page.getByTestId("balance").getByText("2,000.00").waitFor();
    const relaysBefore = await stack.api.relayCount();

    await page.getByLabel("Recipient address", { exact: true }).fill(bobWallet.address);
    await page.getByLabel(/^Amount/).fill("1250");
    await page.getByRole("button", { name: "Send", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: "Confirm it is you" });
    await dialog.waitFor();
    expect(await dialog.getByTestId("step-up-amount").innerText()).to.contain("1,250.00");
    expect(await dialog.getByRole("button", { name: "Use my passkey" }).count()).to.equal(0);

    // A code that is none of the accepted window's (the previous, this and the next step).
    const now = timeStep();
    const valid = new Set([-1, 0, 1, 2].map((d) => totpCode(secret, now + d)));
    let wrong = 0;
    while (valid.has(String(wrong).padStart(6, "0"))) wrong++;
    await dialog.getByLabel("Code from your authenticator app", { exact: true }).fill(String(wrong).padStart(6, "0"));
    await dialog.getByRole("button", { name: "Approve" }).click();
    const refused = dialog.getByRole("alert");
    await refused.getByText("SECOND_FACTOR_INVALID").waitFor();
    expect(await refused.locator(".error-reason").innerText()).to.have.length.greaterThan(0);
    await checkPage(page, "step-up-totp-wrong-code");
    await stack.settle();
    expect(await stack.api.relayCount()).to.equal(relaysBefore);
    expect(await stack.api.balanceOf(bobWallet.address)).to.equal(0n);

    // The code used at enrolment is spent (a replay is refused): the next step's code, inside the
    // server's one-step skew, is fresh.
    await dialog
      .getByLabel("Code from your authenticator app", { exact: true })
      .fill(totpCode(secret, Math.max(timeStep(), enrolledAt) + 1));
    const approved = page.waitForResponse((r) => r.url().endsWith("/v1/auth/step-up"));
    await dialog.getByRole("button", { name: "Approve" }).click();
    expect((await approved).status()).to.equal(201);
    await page.getByRole("status").filter({ hasText: "Sending 1,250.00" }).waitFor();

    await stack.settle();
    await page.getByTestId("balance").getByText("750.00").waitFor();
    expect(await stack.api.balanceOf(bobWallet.address)).to.equal(1_250n * UNIT);
    const { token: session } = await sessionOf(page);
    const sent = (await stack.api.request("GET", `/v1/wallets/${wallet.id}/transfers`, { key: session })).body as {
      items: { amount: string; risk: { stepUp: { factor?: string } | null } | null }[];
    };
    expect(sent.items.map((m) => m.amount)).to.deep.equal([String(1_250n * UNIT)]);
  });
});
