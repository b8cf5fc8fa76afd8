/**
 * The wallet web app on the real stack, for browser tests: the UI built (when ui/ changed since the
 * last build), the API fixture's chain, database, Redis, indexer and relayer workers, the API
 * listening on `http://localhost:<port>` (its public origin, so Sign-In with Ethereum messages and
 * WebAuthn see one origin), the webhook delivery worker, and Debian's Chromium through
 * playwright-core. Screenshots go to test-results/ui/ (git-ignored).
 */
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

import AxeBuilder from "@axe-core/playwright";
import { expect } from "chai";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

import { createWebhookDeliveryWorker } from "../../../../api/webhooks/delivery-worker.ts";
import { dispatchChainEvents } from "../../../../api/webhooks/dispatch-chain-events.ts";
import { createWebhookQueue } from "../../../../api/webhooks/webhook-queue.ts";
import { createLogger } from "../../../../lib/logging/logger.ts";
import { buildUi, uiBuildIsStale } from "../../../../scripts/build-ui.ts";
import { createApiFixture, TEST_REDIS_URL, type ApiFixture } from "../../../api/helpers/api-fixture.ts";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
];
export const SCREENSHOTS = join(process.cwd(), "test-results", "ui");
export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export type UiStack = Awaited<ReturnType<typeof startUiStack>>;

/**
 * Starts the stack for one test file.
 * @param label - names the test file's database schema and Redis prefix
 * @param env - more API settings (e.g. a cheaper password hash for tests that sign up)
 */
export async function startUiStack(label: string, env: Record<string, string> = {}) {
  // The API reads ui/dist once at start-up: build first (a no-op when nothing in ui/ changed).
  if (uiBuildIsStale()) {
    const report = await buildUi();
    if (report.overBudget) throw new Error(`ui first load over budget:\n${report.table}`);
  }
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  const api: ApiFixture = await createApiFixture(label, { env: { ...env, API_PUBLIC_ORIGIN: origin } });
  await api.app.listen({ host: "127.0.0.1", port });

  const webhookQueue = createWebhookQueue({ redisUrl: TEST_REDIS_URL, prefix: api.redisPrefix });
  const webhookWorker = createWebhookDeliveryWorker({
    database: api.database,
    redisUrl: TEST_REDIS_URL,
    prefix: api.redisPrefix,
    logger: createLogger({ name: "webhooks", level: "silent", format: "json" }),
    urlPolicy: { allowLoopback: true },
  });

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  const contexts: BrowserContext[] = [];

  /** A new browser profile (its own sessionStorage: one person), at desktop size unless told. */
  const newPage = async (viewport = DESKTOP): Promise<Page> => {
    // en-US whatever the machine's LANG: the tests read amounts as "17.50".
    const context = await browser.newContext({ viewport, baseURL: origin, locale: "en-US", timezoneId: "UTC" });
    contexts.push(context);
    context.setDefaultTimeout(20_000);
    const page = await context.newPage();
    page.on("pageerror", (error) => process.stderr.write(`browser page error: ${error.message}\n`));
    return page;
  };

  /** Relays sent and mined, then the indexer caught up: what the UI shows next is settled. */
  const settle = async () => {
    await api.settleRelays();
    await api.indexer.catchUp();
  };

  /** One pass of the real webhook dispatcher: indexed events become delivery jobs. */
  const dispatchWebhooks = () =>
    dispatchChainEvents({
      database: api.database,
      redis: api.redis,
      prefix: api.redisPrefix,
      chainId: 31337,
      queue: webhookQueue.queue,
    });

  const close = async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser.close();
    await webhookWorker.close();
    await webhookQueue.close();
    await api.close();
  };

  return { api, origin, browser, newPage, settle, dispatchWebhooks, close };
}

/**
 * Gives the page's browser profile a platform authenticator through the DevTools protocol's
 * virtual authenticator (resident keys, user verification that always succeeds): the page's
 * navigator.credentials.create/get then run for real against it (../shared/TOOLCHAIN.md, "Passkeys").
 */
export async function addVirtualAuthenticator(page: Page): Promise<string> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
    },
  });
  return authenticatorId;
}

/** The session the app keeps in the tab (its token calls the API as that person). */
export async function sessionOf(page: Page): Promise<{ token: string; via: string; user: { id: string } }> {
  return page.evaluate(
    () =>
      JSON.parse(sessionStorage.getItem("stablerail.session")!) as { token: string; via: string; user: { id: string } },
  );
}

/** Signs up on the sign-up page with email and password; lands on the wallet page. */
export async function signUpWithPassword(page: Page, name: string, email: string, password: string): Promise<void> {
  await page.goto("/sign-up");
  await page.getByLabel("Your name", { exact: true }).fill(name);
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("heading", { name: "Wallet", level: 1 }).waitFor();
}

/** Signs in on the sign-in page with an API key (it opens a session; the key is not stored). */
export async function signInWithKey(page: Page, key: string, next = "/"): Promise<void> {
  await page.goto(next === "/" ? "/sign-in" : next);
  await page.getByLabel("API key", { exact: true }).fill(key);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

/**
 * Screenshots the page at desktop and phone width into test-results/ui/<name>-{desktop,phone}.png and
 * checks it: no sideways scrolling at either width, and no serious or critical axe-core violation at
 * desktop width (at phone width too with UI_AXE_EVERY_WIDTH=1).
 */
export async function checkPage(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const original = page.viewportSize() ?? DESKTOP;
  for (const [width, viewport] of [
    ["desktop", DESKTOP],
    ["phone", PHONE],
  ] as const) {
    await page.setViewportSize(viewport);
    await page.locator("main h1").waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, `${name}-${width}.png`), fullPage: true });
    // Runs in the page (the test's type check has no DOM types).
    const overflow = await page.evaluate(() => {
      const page = globalThis as unknown as {
        document: { documentElement: { scrollWidth: number } };
        innerWidth: number;
      };
      return page.document.documentElement.scrollWidth - page.innerWidth;
    });
    expect(overflow, `${name} at ${width} width scrolls sideways by ${overflow}px`).to.be.at.most(0);
    // axe is the costly part: at desktop width always, at phone width too with UI_AXE_EVERY_WIDTH=1.
    if (width === "phone" && process.env.UI_AXE_EVERY_WIDTH !== "1") continue;
    const results = await new AxeBuilder({ page }).analyze();
    const serious = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    expect(
      serious.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`),
      `axe on ${name} at ${width} width`,
    ).to.deep.equal([]);
  }
  await page.setViewportSize(original);
}
