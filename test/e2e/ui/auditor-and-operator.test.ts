import { expect } from "chai";
import type { Page } from "playwright-core";
import type { Address } from "viem";

import { checkPage, signInWithKey, startUiStack, type UiStack } from "./helpers/ui-stack.ts";

/**
 * The wallet web app in Chromium for an auditor and an operator, on the real stack: the auditor
 * reconciles the ledger with the chain, verifies the journal's hash chain and builds the proof of
 * reserves from the audit page; the operator's page shows; each page passes axe at both widths.
 */
const UNIT = 1_000_000n;

describe("Wallet web app: auditor and operator pages (Chromium)", function () {
  this.timeout(180_000);
  let stack: UiStack;
  let page: Page;

  before(async () => {
    stack = await startUiStack("ui_audit");
    // Something to audit: a custodial wallet funded and a transfer out of it, settled in the ledger.
    const holder = await stack.api.createUser("user", "Audited Holder");
    const wallet = (await stack.api.request("POST", "/v1/wallets", { key: holder.key })).body as {
      id: string;
      address: Address;
    };
    await stack.api.fund(wallet.address, 9n * UNIT);
    await stack.api.indexer.catchUp();
    page = await stack.newPage();
  });

  after(async () => {
    await stack?.close();
  });

  it("lets an auditor run a reconciliation, verify the journal chain and build the proof of reserves", async () => {
    const auditor = await stack.api.createUser("auditor", "Ada Auditor");
    await signInWithKey(page, auditor.key);
    await page.getByRole("heading", { name: "Audit", level: 1 }).waitFor();

    await page.getByRole("button", { name: "Run reconciliation" }).click();
    const report = page.getByTestId("reconciliation-report");
    await report.waitFor();
    expect(await report.getAttribute("data-ok")).to.equal("true");
    await report.getByText("Clean: the ledger agrees with the chain.").waitFor();

    await page.getByRole("button", { name: "Verify the journal's hash chain" }).click();
    await page.getByText("Intact: every row recomputes to the stored head.").waitFor();

    await page.getByRole("button", { name: "Build the proof of reserves" }).click();
    const reserves = page.getByTestId("reserves-report");
    await reserves.waitFor();
    expect(await reserves.innerText()).to.contain("9.00");
    await checkPage(page, "audit");
  });

  it("answers a block past the indexed head with the API's reason", async () => {
    await page.getByLabel("At block", { exact: true }).fill("999999");
    await page.getByRole("button", { name: "Run reconciliation" }).click();
    await page.getByRole("alert").getByText("AUDIT_BLOCK_NOT_INDEXED").waitFor();
  });

  it("shows the operator's page", async () => {
    const operator = await stack.api.createUser("operator", "Oscar Operator");
    const operatorPage = await stack.newPage();
    await signInWithKey(operatorPage, operator.key);
    await operatorPage.getByRole("heading", { name: "Operations", level: 1 }).waitFor();
    await checkPage(operatorPage, "operator");
  });
});
