/**
 * Serves the wallet web app (ui/, built by `npm run build:ui` into ui/dist) on the API's own origin,
 * so the browser talks to the API without CORS and WebAuthn sees one RP id.
 *
 * - Files: the build's files only, listed once at start-up (a request can name no other path, so
 *   nothing outside ui/dist is reachable), kept in memory with their pre-compressed `.br`/`.gz`
 *   twins when the build wrote them. Hashed assets (`/assets/…`) are cached for a year; index.html
 *   is revalidated on every load and carries a strict Content-Security-Policy.
 * - Client routes: a GET that accepts HTML and names no file (a deep link such as `/pay/<id>`)
 *   answers index.html. API paths (`/v1`, `/x402`, `/docs`, health) never do: an unknown one stays
 *   the API's 404 ROUTE_NOT_FOUND, so API clients see no change whether or not the UI is built.
 * - `GET /ui-config.json`: what the app needs before anyone signs in — the chain, the token (symbol,
 *   decimals, EIP-712 domain) and which optional API routes this server has (sign-up, two-factor,
 *   passkeys, auditor, audit log, review queue), so screens for features still landing light up as they land.
 *
 * Without a build the plugin serves a one-line page saying how to build it, and nothing else.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, extname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from "fastify";
import fp from "fastify-plugin";
import type { Address } from "viem";

import { stablecoinAbi } from "../../lib/chain/abis/stablecoin.ts";
import { ValidationError } from "../../lib/errors/base.ts";

export type UiPluginOptions = {
  /** The built app's folder (default: ui/dist of this checkout). */
  root?: string;
};

const DEFAULT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../ui/dist");

/** Paths the API owns: never answered with the app, whatever the Accept header says. */
const API_PATH = /^\/(v1|x402|docs|health|ready|metrics)(\/|$)/;

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json; charset=utf-8",
  ".webmanifest": "application/manifest+json",
  ".txt": "text/plain; charset=utf-8",
  ".woff2": "font/woff2",
};

/**
 * The app's Content-Security-Policy: only its own scripts, styles and API; no inline script, no
 * framing (clickjacking a payment page), no plugins, no base-URI or form redirection.
 */
export const UI_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

type StaticFile = { type: string; body: Buffer; br?: Buffer; gz?: Buffer; immutable: boolean };

/** Every file of the build by URL path; `.br`/`.gz` twins attached to their original. */
function loadBuild(root: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? walk(path) : [path];
    });
  const paths = walk(root);
  for (const path of paths) {
    const extension = extname(path);
    if (extension === ".br" || extension === ".gz") continue;
    const url = `/${relative(root, path).split(sep).join("/")}`;
    const file: StaticFile = {
      type: CONTENT_TYPES[extension] ?? "application/octet-stream",
      body: readFileSync(path),
      immutable: url.startsWith("/assets/"),
    };
    if (existsSync(`${path}.br`)) file.br = readFileSync(`${path}.br`);
    if (existsSync(`${path}.gz`)) file.gz = readFileSync(`${path}.gz`);
    files.set(url, file);
  }
  return files;
}

function sendFile(request: FastifyRequest, reply: FastifyReply, file: StaticFile) {
  const accepts = String(request.headers["accept-encoding"] ?? "");
  const [encoding, body] =
    file.br && /\bbr\b/.test(accepts)
      ? ["br", file.br]
      : file.gz && /\bgzip\b/.test(accepts)
        ? ["gzip", file.gz]
        : [undefined, file.body];
  void reply
    .header("content-type", file.type)
    .header("x-content-type-options", "nosniff")
    .header("vary", "accept-encoding")
    .header("cache-control", file.immutable ? "public, max-age=31536000, immutable" : "no-cache");
  if (encoding) void reply.header("content-encoding", encoding);
  if (file.type.startsWith("text/html")) {
    void reply
      .header("content-security-policy", UI_CONTENT_SECURITY_POLICY)
      .header("referrer-policy", "no-referrer")
      .header("x-frame-options", "DENY");
  }
  return reply.send(body);
}

/**
 * Optional API routes the app has screens for; each turns on when the server has it. A name here
 * that matches no route hides its screen, so test/e2e/ui checks each against the running API.
 */
export const OPTIONAL_ROUTES: Record<string, { method: HTTPMethods; url: string }[]> = {
  signUp: [{ method: "POST", url: "/v1/auth/sign-up" }],
  passwordSignIn: [{ method: "POST", url: "/v1/auth/sign-in" }],
  totp: [{ method: "POST", url: "/v1/auth/totp" }],
  passkeys: [{ method: "POST", url: "/v1/auth/passkeys/registration-options" }],
  stepUp: [{ method: "POST", url: "/v1/auth/step-up" }],
  auditReconciliations: [{ method: "GET", url: "/v1/audit/reconciliation" }],
  auditJournalChain: [{ method: "GET", url: "/v1/audit/journal-chain" }],
  auditReserves: [{ method: "GET", url: "/v1/audit/reserves" }],
  auditLog: [
    { method: "GET", url: "/v1/audit-log" },
    { method: "GET", url: "/v1/audit-log/verify" },
  ],
  reviewQueue: [{ method: "GET", url: "/v1/reviews" }],
  deadLetters: [{ method: "GET", url: "/v1/relays" }],
  webhookRetry: [{ method: "POST", url: "/v1/webhook-endpoints/:endpointId/deliveries/:deliveryId/retry" }],
  events: [{ method: "GET", url: "/v1/events/wallets/:walletId" }],
};

type TokenFacts = { address: Address; symbol: string; decimals: number; name: string; version: string };

export const uiPlugin = fp(
  async (app: FastifyInstance, options: UiPluginOptions) => {
    const root = options.root ?? DEFAULT_ROOT;
    const built = existsSync(join(root, "index.html"));
    const files = built ? loadBuild(root) : new Map<string, StaticFile>();
    const index = files.get("/index.html");

    let token: TokenFacts | undefined;
    const tokenFacts = async (): Promise<TokenFacts> => {
      if (token) return token;
      const { publicClient, contracts, tokenReads } = app.services;
      const address = contracts.stablecoin;
      const [symbol, decimals, domain] = await Promise.all([
        publicClient.readContract({ address, abi: stablecoinAbi, functionName: "symbol" }),
        publicClient.readContract({ address, abi: stablecoinAbi, functionName: "decimals" }),
        tokenReads.domain(),
      ]);
      token = { address, symbol, decimals: Number(decimals), name: domain.name, version: domain.version };
      return token;
    };

    app.get("/ui-config.json", { schema: { hide: true } }, async (_request, reply) => {
      const features = Object.fromEntries(
        Object.entries(OPTIONAL_ROUTES).map(([name, routes]) => [name, routes.every((route) => app.hasRoute(route))]),
      );
      void reply.header("cache-control", "no-cache");
      return {
        chainId: app.services.chainId,
        publicOrigin: app.services.settings.publicOrigin,
        token: await tokenFacts(),
        contracts: app.services.contracts,
        features,
      };
    });

    app.get("/*", { schema: { hide: true } }, async (request, reply) => {
      const path = request.url.split("?")[0]!;
      if (API_PATH.test(path)) {
        // The router falls back to this catch-all when a path parameter is past its limit; answer
        // that as the router would without the app (414), not as an unknown route.
        const longest = Math.max(...path.split("/").map((segment) => segment.length));
        if (longest > app.initialConfig.maxParamLength!)
          throw new ValidationError("URL_TOO_LONG", "A path segment is longer than any id of this API");
        return reply.callNotFound();
      }
      const file = files.get(path === "/" ? "/index.html" : path);
      if (file) return sendFile(request, reply, file);
      const wantsHtml = String(request.headers.accept ?? "").includes("text/html");
      if (!wantsHtml || path.startsWith("/assets/")) return reply.callNotFound();
      if (index) return sendFile(request, reply, index);
      return reply
        .status(503)
        .header("content-type", "text/html; charset=utf-8")
        .header("cache-control", "no-store")
        .send(
          "<!doctype html><title>Stablerail</title><p>The wallet web app is not built: run <code>npm run build:ui</code> (or <code>npm start</code>, which builds it when missing).</p>",
        );
    });
  },
  { name: "ui", dependencies: ["errors"] },
);
