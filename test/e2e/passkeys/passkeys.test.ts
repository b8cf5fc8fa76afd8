import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";

import { expect } from "chai";
import { chromium, type Browser, type Page } from "playwright-core";

import { createApiFixture, type ApiFixture } from "../../api/helpers/api-fixture.ts";
import { PASSWORD, signIn, signUp } from "../../api/auth/helpers.ts";

const require = createRequire(import.meta.url);
// The package exports no path to its browser bundle: find it beside the package's resolved entry.
const BROWSER_BUNDLE = readFileSync(
  join(dirname(require.resolve("@simplewebauthn/browser")), "..", "dist", "bundle", "index.umd.min.js"),
  "utf8",
);
const PAGE = `<!doctype html><html><head><meta charset="utf-8"><script src="/simplewebauthn.js"></script></head><body>passkeys</body></html>`;

/**
 * Issue 14, passkeys end to end: a real page on http://localhost:<port> in Debian's Chromium calls
 * @simplewebauthn/browser against the DevTools protocol's virtual authenticator (user verification
 * on); the API verifies with @simplewebauthn/server. Registration, sign-in with a passkey alone, a
 * passkey as the password's second factor, and as step-up bound to one action.
 */
describe("Passkeys in Chromium (virtual authenticator)", function () {
  this.timeout(120_000);
  let pageServer: Server;
  let api: ApiFixture;
  let browser: Browser;
  let page: Page;

  before(async () => {
    pageServer = createServer((request, response) => {
      if (request.url === "/simplewebauthn.js") {
        response.writeHead(200, { "content-type": "text/javascript" }).end(BROWSER_BUNDLE);
      } else response.writeHead(200, { "content-type": "text/html" }).end(PAGE);
    });
    await new Promise<void>((resolve) => pageServer.listen(0, "127.0.0.1", resolve));
    const origin = `http://localhost:${(pageServer.address() as AddressInfo).port}`;
    // The API's public origin is the page's: the RP id is "localhost" and the origin what the browser reports.
    api = await createApiFixture("e2e_passkeys", {
      env: { API_PASSWORD_SCRYPT_LOG2_N: "10", API_PUBLIC_ORIGIN: origin },
    });
    browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
      ],
    });
    page = await browser.newPage();
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: {
        protocol: "ctap2",
        transport: "internal",
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
      },
    });
    await page.goto(`${origin}/`);
  });
  after(async () => {
    await browser?.close();
    await api?.close();
    pageServer?.close();
  });

  const register = (optionsJSON: unknown) =>
    page.evaluate(
      (options) =>
        (
          globalThis as unknown as { SimpleWebAuthnBrowser: { startRegistration: (o: unknown) => Promise<unknown> } }
        ).SimpleWebAuthnBrowser.startRegistration({ optionsJSON: options }),
      optionsJSON,
    );
  const authenticate = (optionsJSON: unknown) =>
    page.evaluate(
      (options) =>
        (
          globalThis as unknown as { SimpleWebAuthnBrowser: { startAuthentication: (o: unknown) => Promise<unknown> } }
        ).SimpleWebAuthnBrowser.startAuthentication({ optionsJSON: options }),
      optionsJSON,
    );

  let user: { userId: string; email: string; token: string };

  it("registers a passkey made by the browser and lists it", async () => {
    user = await signUp(api, "pia");
    const options = await api.request("POST", "/v1/auth/passkeys/registration-options", { key: user.token });
    expect(options.status, JSON.stringify(options.body)).to.equal(200);
    expect(options.body.options.rp.id).to.equal("localhost");
    const response = await register(options.body.options);
    const created = await api.request("POST", "/v1/auth/passkeys", {
      key: user.token,
      body: { challengeId: options.body.challengeId, response, name: "laptop" },
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    expect(created.body.name).to.equal("laptop");
    const listed = await api.request("GET", "/v1/auth/passkeys", { key: user.token });
    expect(listed.body.items.map((p: { id: string }) => p.id)).to.deep.equal([created.body.id]);
    // The challenge was used up: the same response again is refused.
    const replay = await api.request("POST", "/v1/auth/passkeys", {
      key: user.token,
      body: { challengeId: options.body.challengeId, response },
    });
    expect(replay.status).to.equal(401);
    expect(replay.body.error.code).to.equal("CHALLENGE_INVALID");
  });

  it("signs in with the passkey alone (discoverable, no email), once per challenge", async () => {
    const options = await api.request("POST", "/v1/auth/passkeys/sign-in-options");
    expect(options.status).to.equal(200);
    expect(options.body.options.allowCredentials).to.deep.equal([]);
    const response = await authenticate(options.body.options);
    const signedIn = await api.request("POST", "/v1/auth/passkeys/sign-in", {
      body: { challengeId: options.body.challengeId, response },
    });
    expect(signedIn.status, JSON.stringify(signedIn.body)).to.equal(201);
    expect(signedIn.body.user.id).to.equal(user.userId);
    const sessions = await api.request("GET", "/v1/auth/sessions", { key: signedIn.body.session.token });
    expect(sessions.body.items.map((s: { kind: string }) => s.kind)).to.include("passkey");
    const replay = await api.request("POST", "/v1/auth/passkeys/sign-in", {
      body: { challengeId: options.body.challengeId, response },
    });
    expect(replay.status).to.equal(401);
  });

  it("answers the password's second step with the passkey", async () => {
    const first = await signIn(api, user.email, PASSWORD);
    expect(first.status).to.equal(200);
    expect(first.body.factors).to.deep.equal(["passkey"]);
    const response = await authenticate(first.body.passkey.options);
    const done = await api.request("POST", "/v1/auth/sign-in/second-factor", {
      body: { ticket: first.body.ticket, passkey: { response } },
    });
    expect(done.status, JSON.stringify(done.body)).to.equal(201);
    expect(done.body.user.id).to.equal(user.userId);
  });

  it("steps up one action with the passkey; its assertion cannot approve another challenge", async () => {
    const askedA = await api.request("POST", "/v1/api-keys", { key: user.token });
    expect(askedA.status).to.equal(403);
    const challengeA = askedA.body.error.details.challenge;
    expect(challengeA.factors).to.include("passkey");
    const askedB = await api.request("POST", "/v1/auth/recovery-codes", { key: user.token });
    const challengeB = askedB.body.error.details.challenge;
    // The assertion signs challenge A's digest: presented for challenge B it is refused.
    const forA = await authenticate(challengeA.passkey.options);
    const misused = await api.request("POST", "/v1/auth/step-up", {
      key: user.token,
      body: { challengeId: challengeB.id, passkey: { response: forA } },
    });
    expect(misused.status).to.equal(401);
    expect(misused.body.error.code).to.equal("PASSKEY_INVALID");
    const approved = await api.request("POST", "/v1/auth/step-up", {
      key: user.token,
      body: { challengeId: challengeA.id, passkey: { response: forA } },
    });
    expect(approved.status, JSON.stringify(approved.body)).to.equal(201);
    expect(approved.body.approval.factor).to.equal("passkey");
    const created = await api.request("POST", "/v1/api-keys", {
      key: user.token,
      headers: { "stablerail-step-up": approved.body.approval.token },
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
  });
});
