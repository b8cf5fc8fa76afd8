import { expect } from "chai";
import type { Page, Route } from "playwright-core";
import type { Address } from "viem";

import { OPTIONAL_ROUTES } from "../../../api/plugins/ui.ts";
import {
  addVirtualAuthenticator,
  checkPage,
  sessionOf,
  signInWithKey,
  signUpWithPassword,
  startUiStack,
  type UiStack,
} from "./helpers/ui-stack.ts";

/**
 * Passkeys in the wallet web app, in Chromium with the DevTools protocol's virtual authenticator
 * (the page on http://localhost:<port>, the API verifying with @simplewebauthn/server): register one
 * on the Security page, sign out, sign in with it alone (and as the password's second step); a transfer above the step-up amount is
 * approved with it and goes; an approval given for one transfer and sent with another amount or
 * recipient is refused by the API, the app shows why and nothing moves; removing the passkey takes
 * a step-up too; staff read all of it in the audit log.
 */
const UNIT = 1_000_000n; // the token's 6 decimals
const PASSWORD = "correct horse battery staple";
type Wallet = { id: string; address: Address };

describe("Wallet web app: passkeys and step-up (Chromium, virtual authenticator)", function () {
  this.timeout(120_000);
  let stack: UiStack;
  let page: Page;
  let wallet: Wallet;
  let bobWallet: Wallet;
  let malloryWallet: Wallet;

  before(async () => {
    // A cheap password hash: the test signs up, it does not measure scrypt.
    stack = await startUiStack("ui_passkeys", { API_PASSWORD_SCRYPT_LOG2_N: "10" });
    const bob = await stack.api.createUser("user", "Bob Payee");
    bobWallet = (await stack.api.request("POST", "/v1/wallets", { key: bob.key })).body as Wallet;
    const mallory = await stack.api.createUser("user", "Mallory");
    malloryWallet = (await stack.api.request("POST", "/v1/wallets", { key: mallory.key })).body as Wallet;
    page = await stack.newPage();
    await addVirtualAuthenticator(page);
  });

  after(async () => {
    await stack?.close();
  });

  it("lists every optional route of the app's feature list among the API's routes (a wrong name hides a screen)", async () => {
    // Every optional screen's route is in the API now: none is switched off.
    const pending: string[] = [];
    const missing = Object.entries(OPTIONAL_ROUTES)
      .filter(([, routes]) => !routes.every((route) => stack.api.app.hasRoute(route)))
      .map(([name]) => name);
    expect(missing).to.deep.equal(pending);
    const config = (await stack.api.request("GET", "/ui-config.json")).body as { features: Record<string, boolean> };
    for (const name of Object.keys(OPTIONAL_ROUTES))
      expect(config.features[name], name).to.equal(!pending.includes(name));
  });

  it("registers a passkey on the Security page and lists it", async () => {
    await signUpWithPassword(page, "Pia Passkey", "pia@example.com", PASSWORD);
    await page.getByRole("button", { name: "Create a custodial wallet" }).click();
    await page.getByRole("heading", { name: "Balance" }).waitFor();
    const { token } = await sessionOf(page);
    wallet = ((await stack.api.request("GET", "/v1/wallets", { key: token })).body as { items: Wallet[] }).items[0]!;

    await page.getByRole("link", { name: "Security" }).click();
    await page.getByText("No passkeys yet.").waitFor();
    await page.getByLabel("Name for the new passkey", { exact: true }).fill("Test laptop");
    await page.getByRole("button", { name: "Add a passkey" }).click();
    await page.getByRole("status").getByText("Passkey “Test laptop” added.").waitFor();
    const listed = page.getByRole("list", { name: "Your passkeys" }).getByRole("listitem");
    // The status can show before the list re-renders: wait for the item, then count.
    await listed.first().waitFor();
    expect(await listed.allInnerTexts()).to.have.length(1);
    expect(await listed.first().innerText()).to.contain("Test laptop");
    const fromApi = (await stack.api.request("GET", "/v1/auth/passkeys", { key: token })).body as {
      items: { name: string }[];
    };
    expect(fromApi.items.map((p) => p.name)).to.deep.equal(["Test laptop"]);
    await checkPage(page, "security-passkeys");
  });

  it("signs out, then signs in with the passkey alone (no email, no password)", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in", level: 1 }).waitFor();
    await checkPage(page, "sign-in-passkey");
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await page.getByRole("button", { name: "Sign out" }).waitFor();
    await page.getByRole("heading", { name: "Wallet", level: 1 }).waitFor();
    const session = await sessionOf(page);
    expect(session.via).to.equal("passkey");
    const sessions = (await stack.api.request("GET", "/v1/auth/sessions", { key: session.token })).body as {
      items: { kind: string; current: boolean }[];
    };
    expect(sessions.items.find((s) => s.current)?.kind).to.equal("passkey");
  });

  it("answers the password's second step with the passkey", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Email", { exact: true }).fill("pia@example.com");
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in with password" }).click();
    // A passkey-only account has no code to type: the second step is the passkey alone.
    await page.getByRole("button", { name: "Use my passkey" }).click();
    await page.getByRole("heading", { name: "Wallet", level: 1 }).waitFor();
    expect(await page.getByLabel("Code from your authenticator app", { exact: true }).count()).to.equal(0);
    expect((await sessionOf(page)).via).to.equal("password");
  });

  const send = async (to: string, amount: string) => {
    await page.getByLabel("Recipient address", { exact: true }).fill(to);
    await page.getByLabel(/^Amount/).fill(amount);
    await page.getByRole("button", { name: "Send", exact: true }).click();
  };
  const dialog = () => page.getByRole("dialog", { name: "Confirm it is you" });

  it("asks for a step-up on a transfer above 1,000, takes the passkey's answer, and the transfer goes", async () => {
    // More than the fixture's funded account holds: minted by the token's minter.
    const { token, minter } = stack.api.roles;
    await (await token.connect(minter).mint(wallet.address, 3_000n * UNIT)).wait();
    await stack.api.indexer.catchUp();
    await page.getByTestId("balance").getByText("3,000.00").waitFor();

    await send(bobWallet.address, "1200");
    await dialog().waitFor();
    expect(await dialog().getByTestId("step-up-amount").innerText()).to.contain("1,200.00");
    await dialog().getByText("Above 1,000: confirm with your second factor").waitFor();
    await checkPage(page, "step-up-passkey");
    const approved = page.waitForResponse((r) => r.url().endsWith("/v1/auth/step-up"));
    await dialog().getByRole("button", { name: "Use my passkey" }).click();
    expect((await approved).status()).to.equal(201);
    await page.getByRole("status").filter({ hasText: "Sending 1,200.00" }).waitFor();
    expect(await dialog().isVisible()).to.equal(false);

    await stack.settle();
    await page.getByTestId("balance").getByText("1,800.00").waitFor();
    expect(await stack.api.balanceOf(bobWallet.address)).to.equal(1_200n * UNIT);
  });

  /**
   * Rewrites the transfer sent *with* an approval (the approved one is the same request without the
   * header): what a script in the page, an extension or a proxy would do to redirect the money.
   */
  const tamperApprovedTransfer = async (change: (body: { to: string; amount: string }) => void) => {
    const tampered: { status?: number; code?: string } = {};
    await page.route("**/v1/wallets/*/transfers", async (route: Route) => {
      const request = route.request();
      if (request.method() !== "POST" || !request.headers()["stablerail-step-up"]) return route.continue();
      const body = JSON.parse(request.postData()!) as { to: string; amount: string };
      change(body);
      const response = await route.fetch({ postData: JSON.stringify(body) });
      tampered.status = response.status();
      tampered.code = ((await response.json()) as { error?: { code: string } }).error?.code;
      return route.fulfill({ response });
    });
    return tampered;
  };

  for (const [what, change] of [
    ["amount", (body: { amount: string }) => (body.amount = String(1_400n * UNIT))],
    ["recipient", (body: { to: string }) => (body.to = malloryWallet.address)],
  ] as const) {
    it(`refuses an approval given for one transfer when sent with another ${what}: the app shows why and nothing moves`, async () => {
      const relaysBefore = await stack.api.relayCount();
      const tampered = await tamperApprovedTransfer(change as (body: { to: string; amount: string }) => void);
      await send(bobWallet.address, "1300");
      await dialog().waitFor();
      expect(await dialog().getByTestId("step-up-amount").innerText()).to.contain("1,300.00");
      await dialog().getByRole("button", { name: "Use my passkey" }).click();

      const refused = page.locator("#send-error [role=alert]");
      await refused.getByText("STEP_UP_APPROVAL_INVALID").waitFor();
      expect(await refused.locator(".error-reason").innerText()).to.contain("was given for another request");
      expect(tampered).to.deep.equal({ status: 403, code: "STEP_UP_APPROVAL_INVALID" });
      // Not asked again for the changed request: approving it would move what the person never saw.
      expect(await dialog().isVisible()).to.equal(false);
      if (what === "amount") await checkPage(page, "step-up-refused-other-request");
      await page.unroute("**/v1/wallets/*/transfers");

      await stack.settle();
      expect(await stack.api.relayCount()).to.equal(relaysBefore);
      expect(await stack.api.balanceOf(wallet.address)).to.equal(1_800n * UNIT);
      expect(await stack.api.balanceOf(bobWallet.address)).to.equal(1_200n * UNIT);
      expect(await stack.api.balanceOf(malloryWallet.address)).to.equal(0n);
      const { token } = await sessionOf(page);
      const sent = (await stack.api.request("GET", `/v1/wallets/${wallet.id}/transfers`, { key: token })).body as {
        items: { amount: string; status: string }[];
      };
      expect(sent.items.filter((m) => !["denied"].includes(m.status)).map((m) => m.amount)).to.deep.equal([
        String(1_200n * UNIT),
      ]);
    });
  }

  it("removes the passkey only with a step-up answered by that passkey", async () => {
    await page.getByRole("link", { name: "Security" }).click();
    await page.getByRole("button", { name: "Remove passkey Test laptop" }).click();
    await dialog().waitFor();
    await dialog().getByText("Remove a passkey").waitFor();
    await dialog().getByRole("button", { name: "Use my passkey" }).click();
    await page.getByText("No passkeys yet.").waitFor();
    const { token } = await sessionOf(page);
    const left = (await stack.api.request("GET", "/v1/auth/passkeys", { key: token })).body as { items: unknown[] };
    expect(left.items).to.deep.equal([]);
  });

  it("shows staff the audit log of all this (passkey added and removed, sign-in, step-ups, the refusals) and verifies its chain", async () => {
    const auditor = await stack.api.createUser("auditor", "Ada Auditor");
    const desk = await stack.newPage();
    await signInWithKey(desk, auditor.key);
    await desk.getByRole("heading", { name: "Audit log" }).waitFor();
    const rows = desk.getByRole("table", { name: "Audit log, newest first" }).locator("tbody tr");
    await rows.first().waitFor();
    const actionsOf = async () => {
      const seen: string[] = [];
      for (const row of await rows.all())
        seen.push(`${await row.getAttribute("data-audit-action")}:${await row.getAttribute("data-outcome")}`);
      return seen;
    };
    const actions = await actionsOf();
    for (const expected of [
      "auth.passkey.add:success",
      "auth.passkey.remove:success",
      "auth.step_up.approve:success",
      "auth.sign_in:success",
    ])
      expect(actions, expected).to.include(expected);

    await desk.getByLabel("Action", { exact: true }).fill("auth.passkey.remove");
    await desk.getByRole("button", { name: "Filter" }).click();
    await desk.locator('tbody tr[data-audit-action="auth.sign_in"]').first().waitFor({ state: "detached" });
    // Newest first: the removal, and before it the same request refused for want of a step-up.
    expect(await actionsOf()).to.deep.equal(["auth.passkey.remove:success", "auth.passkey.remove:failure"]);

    await desk.getByRole("button", { name: "Verify the audit log's hash chain" }).click();
    await desk
      .getByTestId("audit-log-verified")
      .getByText(/^Intact: all \d+ entries/)
      .waitFor();
    await checkPage(desk, "audit-log");
  });
});
