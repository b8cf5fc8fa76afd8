/**
 * The auditor's API (issue 13): /v1/audit/* for the auditor role only — reconciliation, one
 * transaction, the journal hash chain and its head, proofs of reserves — and /v1/reserves for
 * everyone, with each custodial user's own inclusion proof, verifiable offline. Real chain,
 * real ledger (PGlite), the real indexer.
 */
import { randomBytes } from "node:crypto";

import { expect } from "chai";
import { sql } from "drizzle-orm";
import { createPublicClient, http, type Address, type PublicClient } from "viem";

import { verifyLiabilityProof } from "../../auditor/index.ts";
import { ONE } from "../helpers/stablecoin.ts";
import { ADMIN_KEY, createApiFixture, type ApiFixture } from "./helpers/api-fixture.ts";

type Response = Awaited<ReturnType<ApiFixture["request"]>>;
type Principal = { id: string; key: string };

function expectError(response: Response, status: number, code: string) {
  expect(response.status, JSON.stringify(response.body)).to.equal(status);
  expect(Object.keys(response.body)).to.deep.equal(["error"]);
  expect(response.body.error.code).to.equal(code);
  expect(response.body.error.message).to.be.a("string").and.not.equal("");
}

describe("API /v1/audit and /v1/reserves (the auditor's toolkit over HTTP)", () => {
  let api: ApiFixture;
  let auditor: Principal;
  let alice: Principal;
  let shop: Principal;
  let carol: Principal;
  let others: Record<"user" | "merchant" | "operator" | "admin", string>;
  let aliceWallet: { id: string; address: Address };
  let shopWallet: { id: string; address: Address };
  let transactionHash: string;

  before(async () => {
    api = await createApiFixture("audit", { relay: "queue" });
    auditor = await api.createUser("auditor", "ada");
    alice = await api.createUser("user", "alice");
    shop = await api.createUser("merchant", "shop");
    carol = await api.createUser("user", "carol");
    others = {
      user: alice.key,
      merchant: shop.key,
      operator: (await api.createUser("operator", "olga")).key,
      admin: ADMIN_KEY,
    };
    aliceWallet = (await api.request("POST", "/v1/wallets", { key: alice.key })).body;
    shopWallet = (await api.request("POST", "/v1/wallets", { key: shop.key })).body;
    await api.fund(aliceWallet.address, 7n * ONE);
    await api.fund(shopWallet.address, 3n * ONE);
    await api.fund(aliceWallet.address, 5n);
    await api.indexer.catchUp();
    const [row] = await api.database.query<{ tx: string }>(
      sql`SELECT transaction_hash AS tx FROM journal_entries ORDER BY block_number DESC LIMIT 1`,
    );
    transactionHash = row!.tx;
  });
  after(async () => {
    await api?.close();
  });

  const auditRoutes = (): ["GET" | "POST", string, unknown?][] => [
    ["GET", "/v1/audit/reconciliation"],
    ["GET", `/v1/audit/transactions/${transactionHash}`],
    ["GET", "/v1/audit/journal-chain"],
    ["GET", "/v1/audit/journal-chain/head"],
    ["GET", "/v1/audit/reserves"],
    ["POST", "/v1/audit/reserves", {}],
  ];

  it("answers 403 FORBIDDEN to every other role and 401 without a credential on every auditor route", async () => {
    for (const [method, url, body] of auditRoutes()) {
      for (const [role, key] of Object.entries(others)) {
        const response = await api.request(method, url, { key, body });
        expect(response.status, `${role} ${method} ${url}`).to.equal(403);
        expect(response.body.error.code).to.equal("FORBIDDEN");
      }
      expectError(await api.request(method, url, { body }), 401, "UNAUTHENTICATED");
    }
  });

  it("serves a user's inclusion proof to custodial users only: operator, auditor and admin are answered 403", async () => {
    for (const key of [others.operator, auditor.key, ADMIN_KEY]) {
      expectError(await api.request("GET", "/v1/reserves/proof", { key }), 403, "FORBIDDEN");
    }
    expectError(await api.request("GET", "/v1/reserves/proof"), 401, "UNAUTHENTICATED");
  });

  it("answers 404 RESERVES_NOT_PUBLISHED before an auditor has published, and a GET by the auditor publishes nothing", async () => {
    const built = await api.request("GET", "/v1/audit/reserves", { key: auditor.key });
    expect(built.status, JSON.stringify(built.body)).to.equal(200);
    expect(built.body.totalLiabilities).to.equal((10n * ONE + 5n).toString());
    expectError(await api.request("GET", "/v1/reserves", { key: alice.key }), 404, "RESERVES_NOT_PUBLISHED");
    expectError(await api.request("GET", "/v1/reserves/proof", { key: alice.key }), 404, "RESERVES_NOT_PUBLISHED");
  });

  it("reconciles the ledger with the chain at the indexed head and at an earlier block, with no mismatch", async () => {
    const head = await api.request("GET", "/v1/audit/reconciliation", { key: auditor.key });
    expect(head.status, JSON.stringify(head.body)).to.equal(200);
    expect(head.body).to.include({ kind: "stablerail.reconciliation", ok: true, firstDivergentBlock: null });
    expect(head.body.mismatches).to.deep.equal([]);
    expect(head.body.totals.holders).to.be.greaterThan(2);
    const earlier = BigInt(head.body.block.number) - 1n;
    const before = await api.request("GET", `/v1/audit/reconciliation?block=${earlier}&completeness=false`, {
      key: auditor.key,
    });
    expect(before.status, JSON.stringify(before.body)).to.equal(200);
    expect(before.body).to.include({ ok: true, range: null });
    expect(before.body.block.number).to.equal(earlier.toString());
  });

  it("names a mismatch through the API once a posting is changed in the database", async () => {
    const [target] = await api.database.query<{ block: string; log: number }>(
      sql`SELECT block_number::text AS block, log_index AS log FROM journal_entries WHERE transaction_hash = ${transactionHash}`,
    );
    const where = sql`block_number = ${BigInt(target!.block)} AND log_index = ${target!.log} AND leg = 1`;
    await api.database.query(sql`UPDATE postings SET amount = amount + 1 WHERE ${where}`);
    try {
      const report = await api.request("GET", "/v1/audit/reconciliation", { key: auditor.key });
      expect(report.status).to.equal(200);
      expect(report.body.ok).to.equal(false);
      expect(report.body.firstDivergentBlock).to.equal(target!.block);
      expect(report.body.mismatches.map((m: { check: string }) => m.check)).to.include("entry_differs");
      const chain = await api.request("GET", "/v1/audit/journal-chain", { key: auditor.key });
      expect(chain.body.ok).to.equal(false);
      expect(chain.body.first).to.include({ kind: "edited" });
    } finally {
      await api.database.query(sql`UPDATE postings SET amount = amount - 1 WHERE ${where}`);
    }
  });

  it("refuses bad input with 400 and the one error shape: a block that is not a number, above the indexed head, an unknown parameter, a malformed hash", async () => {
    const key = auditor.key;
    expectError(await api.request("GET", "/v1/audit/reconciliation?block=abc", { key }), 400, "VALIDATION_FAILED");
    expectError(await api.request("GET", "/v1/audit/reconciliation?block=-1", { key }), 400, "VALIDATION_FAILED");
    expectError(await api.request("GET", "/v1/audit/reconciliation?blok=1", { key }), 400, "VALIDATION_FAILED");
    expectError(
      await api.request("GET", "/v1/audit/reconciliation?block=99999999", { key }),
      400,
      "AUDIT_BLOCK_NOT_INDEXED",
    );
    expectError(await api.request("GET", "/v1/audit/reserves?block=99999999", { key }), 400, "AUDIT_BLOCK_NOT_INDEXED");
    expectError(await api.request("POST", "/v1/audit/reserves", { key, body: { block: 1 } }), 400, "VALIDATION_FAILED");
    expectError(await api.request("GET", "/v1/audit/transactions/0x1234", { key }), 400, "VALIDATION_FAILED");
    expectError(await api.request("GET", "/v1/audit/journal-chain?expectHead=12", { key }), 400, "VALIDATION_FAILED");
    expectError(
      await api.request("GET", `/v1/audit/transactions/0x${randomBytes(32).toString("hex")}`, { key }),
      404,
      "AUDIT_TRANSACTION_NOT_FOUND",
    );
  });

  it("shows one transaction's logs and ledger entries side by side with a verdict", async () => {
    const audit = await api.request("GET", `/v1/audit/transactions/${transactionHash}`, { key: auditor.key });
    expect(audit.status, JSON.stringify(audit.body)).to.equal(200);
    expect(audit.body).to.include({ kind: "stablerail.transaction-audit", ok: true, status: "success" });
    expect(audit.body.rows[0]).to.include({ verdict: "match" });
  });

  it("verifies the journal chain and serves its head, which a later verification must pass through", async () => {
    const head = await api.request("GET", "/v1/audit/journal-chain/head", { key: auditor.key });
    expect(head.status).to.equal(200);
    expect(head.body.chainId).to.equal(31337);
    expect(BigInt(head.body.journalHead.seq)).to.be.greaterThan(0n);
    expect(head.body.journalHead.hash).to.match(/^0x[0-9a-f]{64}$/);
    const pinned = `${head.body.journalHead.seq}:${head.body.journalHead.hash}`;
    const verified = await api.request("GET", `/v1/audit/journal-chain?expectHead=${pinned}`, { key: auditor.key });
    expect(verified.status).to.equal(200);
    expect(verified.body).to.include({ ok: true });
    expect(verified.body.head).to.deep.equal({ seq: head.body.journalHead.seq, hash: head.body.journalHead.hash });
    const forged = `${head.body.journalHead.seq}:0x${"ab".repeat(32)}`;
    const refuted = await api.request("GET", `/v1/audit/journal-chain?expectHead=${forged}`, { key: auditor.key });
    expect(refuted.body.ok).to.equal(false);
    expect(refuted.body.findings.map((f: { kind: string }) => f.kind)).to.include("head_mismatch");
  });

  it("publishes the reserves and serves each custodial user their own proof, which verifies offline against the published root", async () => {
    const published = await api.request("POST", "/v1/audit/reserves", { key: auditor.key, body: {} });
    expect(published.status, JSON.stringify(published.body)).to.equal(201);
    expect(published.body).to.include({
      kind: "stablerail.reserves",
      users: 2,
      totalLiabilities: (10n * ONE + 5n).toString(),
      reserves: (10n * ONE + 5n).toString(),
      ratio: "1.000000",
    });
    const summary = await api.request("GET", "/v1/reserves", { key: carol.key });
    expect(summary.status).to.equal(200);
    expect(summary.body).to.include({ root: published.body.root, totalLiabilities: published.body.totalLiabilities });
    expect(summary.body.journalHead).to.deep.equal(published.body.journalHead);

    for (const [principal, balance] of [
      [alice, 7n * ONE + 5n],
      [shop, 3n * ONE],
    ] as const) {
      const proof = await api.request("GET", "/v1/reserves/proof", { key: principal.key });
      expect(proof.status, JSON.stringify(proof.body)).to.equal(200);
      expect(proof.body.leaf).to.include({ userId: principal.id, balance: balance.toString() });
      // Offline: only the file and the root published above.
      const verdict = verifyLiabilityProof(JSON.parse(JSON.stringify(proof.body)), summary.body.root);
      expect(verdict.ok, verdict.reason).to.equal(true);
      expect(verdict.computedRoot!.sum).to.equal(summary.body.totalLiabilities);
    }
    expectError(await api.request("GET", "/v1/reserves/proof", { key: carol.key }), 404, "LIABILITY_PROOF_NOT_FOUND");
  });

  it("gives a third party no way to another user's proof, and no role but the auditor a way to publish", async () => {
    const root = (await api.request("GET", "/v1/reserves", { key: carol.key })).body.root;
    expectError(
      await api.request("GET", `/v1/reserves/proof?userId=${alice.id}`, { key: carol.key }),
      400,
      "VALIDATION_FAILED",
    );
    const own = await api.request("GET", "/v1/reserves/proof", { key: shop.key });
    expect(own.body.leaf.userId).to.equal(shop.id);
    // Alice's balance changes; only the auditor's publication moves the root users' proofs come from.
    await api.fund(aliceWallet.address, 1n);
    await api.indexer.catchUp();
    for (const key of Object.values(others))
      expectError(await api.request("POST", "/v1/audit/reserves", { key, body: {} }), 403, "FORBIDDEN");
    expect((await api.request("GET", "/v1/reserves", { key: carol.key })).body.root).to.equal(root);
    const republished = await api.request("POST", "/v1/audit/reserves", { key: auditor.key, body: {} });
    expect(republished.body.root).to.not.equal(root);
    expect((await api.request("GET", "/v1/reserves", { key: carol.key })).body.root).to.equal(republished.body.root);
  });

  it("answers 503 CHAIN_UNAVAILABLE (retryable) when the node does not answer, on every route that reads the chain", async () => {
    const deadNode = createPublicClient({ transport: http("http://127.0.0.1:9", { retryCount: 0 }) }) as PublicClient;
    const offline = await api.buildAnotherApp(undefined, { publicClient: deadNode });
    for (const [method, url, body] of [
      ["GET", "/v1/audit/reconciliation"],
      ["GET", `/v1/audit/transactions/${transactionHash}`],
      ["GET", "/v1/audit/reserves"],
      ["POST", "/v1/audit/reserves", {}],
    ] as const) {
      const response = await api.request(method, url, { key: auditor.key, body, via: offline });
      expectError(response, 503, "CHAIN_UNAVAILABLE");
      expect(response.body.error.details.retryable, url).to.equal(true);
      expect(response.headers["retry-after"]).to.equal("1");
    }
    // The journal chain needs only the database: it still answers.
    const chain = await api.request("GET", "/v1/audit/journal-chain", { key: auditor.key, via: offline });
    expect(chain.status).to.equal(200);
  });
});
