import { expect } from "chai";
import { readFileSync } from "node:fs";
import { eq } from "drizzle-orm";
import type { FastifyInstance } from "fastify";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { getAddress, type Address } from "viem";

import { moneyMovements } from "../../../api/db/schema.ts";
import { totpFactors } from "../../../api/db/security-schema.ts";
import { canonicalMovement, movementDigest } from "../../../api/risk/movement-digest.ts";
import { getBalances } from "../../../lib/ledger/queries/get-balances.ts";
import { generate } from "otplib";

import { ONE } from "../../helpers/stablecoin.ts";
import { signUp } from "../auth/helpers.ts";
import { ADMIN_KEY, createApiFixture, newIdempotencyKey, type ApiFixture } from "../helpers/api-fixture.ts";

const sdnXml = readFileSync(new URL("../../fixtures/screening/sdn-sample.xml", import.meta.url), "utf8");
const SANCTIONED = getAddress("0x00000000000000000000000000000000000bad01");
const freshAddress = () => privateKeyToAccount(generatePrivateKey()).address;

type Rule = { code: string; action: "step_up" | "review" | "deny"; when: unknown; message?: string };
const screeningRule = { code: "SCREENING_MATCH", action: "deny", when: { "screening.hit": { eq: true } } };
/** A rule set with only `basic` rules under test (plus screening), and optional extras. */
const ruleSet = (basic: Rule[], extra: Record<string, unknown> = {}) => ({
  windows: [
    { name: "w", seconds: 2 },
    { name: "1h", seconds: 3600 },
  ],
  common: [screeningRule],
  tiers: { basic: { rules: basic } },
  ...extra,
});

/**
 * The risk engine inside the money door (issue 14, the risk half): decisions recorded and returned,
 * limits and velocity exact across two API processes, the available balance reserved, screening,
 * travel rule, the review queue.
 */
describe("The risk engine in the money door", () => {
  let api: ApiFixture;
  let other: FastifyInstance;
  let operator: { id: string; key: string };

  const newHolder = async (name: string, funds: bigint) => {
    const user = await api.createUser("user", name);
    const wallet = (await api.request("POST", "/v1/wallets", { key: user.key })).body as {
      id: string;
      address: Address;
    };
    if (funds > 0n) await api.fund(wallet.address, funds);
    return { ...user, wallet };
  };
  const send = (
    holder: { key: string; wallet: { id: string } },
    body: Record<string, unknown>,
    options: { idempotencyKey?: string; via?: FastifyInstance } = {},
  ) =>
    api.request("POST", `/v1/wallets/${holder.wallet.id}/transfers`, {
      key: holder.key,
      body,
      idempotencyKey: options.idempotencyKey ?? newIdempotencyKey(),
      ...(options.via ? { via: options.via } : {}),
    });
  const useRules = async (rules: unknown) => {
    const response = await api.request("PUT", "/v1/risk/rules", { key: ADMIN_KEY, body: rules });
    expect(response.status, JSON.stringify(response.body)).to.equal(200);
  };
  const movementRow = async (id: string) =>
    (await api.database.db.select().from(moneyMovements).where(eq(moneyMovements.id, id)))[0]!;

  before(async () => {
    api = await createApiFixture("risk", { env: { API_PASSWORD_SCRYPT_LOG2_N: "10" } });
    other = await api.buildAnotherApp();
    operator = await api.createUser("operator", "olga");
  });
  after(async () => {
    await api.close();
  });

  it("allows what the built-in rules pass, returning and recording the decision, score and factors", async () => {
    const holder = await newHolder("alma", 20n * ONE);
    const response = await send(holder, { to: freshAddress(), amount: ONE.toString() });
    expect(response.status, JSON.stringify(response.body)).to.equal(202);
    expect(response.body.risk).to.include({ decision: "allow", model: "risk-lr-v1", rulesVersion: 0 });
    expect(response.body.risk.factors).to.have.length.greaterThan(0);
    expect((await movementRow(response.body.id)).risk).to.deep.equal(response.body.risk);
    const rules = await api.request("GET", "/v1/risk/rules", { key: holder.key });
    expect(rules.body.rules.tiers).to.have.keys("basic", "verified");
  });

  it("denies above the per-transaction limit: 403 MOVEMENT_DENIED, recorded as denied, nothing queued; a retry is denied again", async () => {
    await useRules(
      ruleSet([{ code: "LIMIT_PER_TRANSACTION", action: "deny", when: { amount: { gt: (5n * ONE).toString() } } }]),
    );
    const holder = await newHolder("bert", 20n * ONE);
    const relaysBefore = await api.relayCount();
    const key = newIdempotencyKey();
    const body = { to: freshAddress(), amount: (6n * ONE).toString() };
    const denied = await send(holder, body, { idempotencyKey: key });
    expect(denied.status, JSON.stringify(denied.body)).to.equal(403);
    expect(denied.body.error.code).to.equal("MOVEMENT_DENIED");
    expect(denied.body.error.details.reasons.map((r: { code: string }) => r.code)).to.deep.equal([
      "LIMIT_PER_TRANSACTION",
    ]);
    const row = await movementRow(denied.body.error.details.movementId);
    expect(row.status).to.equal("denied");
    expect(row.relayRequest, "nothing was signed").to.equal(null);
    const again = await send(holder, body, { idempotencyKey: key });
    expect(again.body.error.code).to.equal("MOVEMENT_DENIED");
    expect(await api.relayCount()).to.equal(relaysBefore);
    const list = await api.request("GET", `/v1/wallets/${holder.wallet.id}/transfers`, { key: holder.key });
    expect(list.body.items[0]).to.include({ status: "denied" });
    expect((await send(holder, { to: freshAddress(), amount: (5n * ONE).toString() })).status).to.equal(202);
  });

  it("wants a step-up exactly where configured: SECOND_FACTOR_NOT_ENROLLED without a factor, STEP_UP_REQUIRED with the movement's digest once one exists", async () => {
    await useRules(
      ruleSet([{ code: "AMOUNT_ABOVE_STEP_UP", action: "step_up", when: { amount: { gt: (5n * ONE).toString() } } }]),
    );
    const holder = await newHolder("cleo", 20n * ONE);
    const to = freshAddress();
    const key = newIdempotencyKey();
    const relaysBefore = await api.relayCount();
    const unenrolled = await send(holder, { to, amount: (6n * ONE).toString() }, { idempotencyKey: key });
    expect(unenrolled.status).to.equal(403);
    expect(unenrolled.body.error.code).to.equal("SECOND_FACTOR_NOT_ENROLLED");
    // The TOTP enrolment routes are the auth half's (not in the tree yet): a confirmed factor row stands in.
    await api.database.db
      .insert(totpFactors)
      .values({ userId: holder.id, secretCiphertext: "x", status: "confirmed", confirmedAt: new Date() });
    const required = await send(holder, { to, amount: (6n * ONE).toString() }, { idempotencyKey: key });
    expect(required.status).to.equal(403);
    expect(required.body.error.code).to.equal("STEP_UP_REQUIRED");
    const canonical = canonicalMovement({
      chainId: 31337,
      userId: holder.id,
      kind: "transfer",
      token: api.token,
      from: holder.wallet.address,
      to,
      amount: 6n * ONE,
      idempotencyKey: key,
    });
    expect(required.body.error.details.movement).to.deep.equal(canonical);
    expect(required.body.error.details.digest).to.equal(movementDigest(canonical));
    expect(required.body.error.details.reasons[0]).to.include({ code: "AMOUNT_ABOVE_STEP_UP", action: "step_up" });
    const rows = await api.database.db.select().from(moneyMovements).where(eq(moneyMovements.userId, holder.id));
    expect(rows, "a step-up asks; it records nothing").to.have.length(0);
    expect(await api.relayCount()).to.equal(relaysBefore);
    const below = await send(holder, { to, amount: (5n * ONE).toString() });
    expect(below.status, "below the step-up amount").to.equal(202);
  });

  it("moves a stepped-up movement once its second factor approved that very movement, never another", async () => {
    await useRules(
      ruleSet([{ code: "AMOUNT_ABOVE_STEP_UP", action: "step_up", when: { amount: { gt: (5n * ONE).toString() } } }]),
    );
    const user = await signUp(api, "rita");
    const t0 = Date.now();
    const codeAt = (secret: string, ms: number) => generate({ secret, epoch: Math.floor(ms / 1000) });
    const secret = (await api.request("POST", "/v1/auth/totp", { key: user.token })).body.secret as string;
    const confirmed = await api.request("POST", "/v1/auth/totp/confirm", {
      key: user.token,
      body: { code: await codeAt(secret, t0) },
    });
    expect(confirmed.status, JSON.stringify(confirmed.body)).to.equal(200);
    const wallet = (await api.request("POST", "/v1/wallets", { key: user.token })).body as {
      id: string;
      address: Address;
    };
    await api.fund(wallet.address, 20n * ONE);
    const holder = { key: user.token, wallet };
    const body = { to: freshAddress(), amount: (6n * ONE).toString() };
    const key = newIdempotencyKey();

    const asked = await send(holder, body, { idempotencyKey: key });
    expect(asked.body.error.code, JSON.stringify(asked.body)).to.equal("STEP_UP_REQUIRED");
    const { challenge, digest } = asked.body.error.details;
    expect(challenge).to.include({ purpose: "movement", digest });
    const approved = await api.request("POST", "/v1/auth/step-up", {
      key: user.token,
      body: { challengeId: challenge.id, totp: { code: await codeAt(secret, t0 + 30_000) } },
    });
    expect(approved.status, JSON.stringify(approved.body)).to.equal(201);
    const token = approved.body.approval.token as string;

    const otherAmount = await api.request("POST", `/v1/wallets/${wallet.id}/transfers`, {
      key: user.token,
      body: { ...body, amount: (7n * ONE).toString() },
      idempotencyKey: newIdempotencyKey(),
      headers: { "stablerail-step-up": token },
    });
    expect(otherAmount.body.error, "an approval for 6 does not move 7").to.deep.include({
      code: "STEP_UP_APPROVAL_INVALID",
    });
    expect(otherAmount.body.error.details.reason).to.equal("other_request");

    const sent = await api.request("POST", `/v1/wallets/${wallet.id}/transfers`, {
      key: user.token,
      body,
      idempotencyKey: key,
      headers: { "stablerail-step-up": token },
    });
    expect(sent.status, JSON.stringify(sent.body)).to.equal(202);
    expect(sent.body.risk.decision).to.equal("step_up");
    expect(sent.body.risk.stepUp).to.include({ challengeId: challenge.id, factor: "totp" });
    const reused = await api.request("POST", `/v1/wallets/${wallet.id}/transfers`, {
      key: user.token,
      body,
      idempotencyKey: newIdempotencyKey(),
      headers: { "stablerail-step-up": token },
    });
    expect(reused.body.error.details.reason, "an approval is used once").to.equal("used");
  });

  it("counts velocity exactly across two API processes, and a window resets once it has passed", async () => {
    await useRules(ruleSet([{ code: "VELOCITY_COUNT", action: "deny", when: { "window.1h.count": { gt: 4 } } }]));
    const holder = await newHolder("dana", 20n * ONE);
    const to = freshAddress();
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => send(holder, { to, amount: "1" }, i % 2 ? { via: other } : {})),
    );
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses, JSON.stringify(answers.map((a) => a.body.error?.code))).to.deep.equal([
      202, 202, 202, 202, 403, 403, 403, 403,
    ]);
    // The same limit over the 2-second window: once 2 s of the Redis server's clock have passed
    // since the last accepted movement, the window is empty again (the hour's still is not).
    await useRules(ruleSet([{ code: "VELOCITY_COUNT", action: "deny", when: { "window.w.count": { gt: 4 } } }]));
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    expect((await send(holder, { to, amount: "1" }, { via: other })).status).to.equal(202);
  });

  it("sums amounts exactly across two API processes (a rolling limit never passed twice on the same room)", async () => {
    await useRules(
      ruleSet([{ code: "LIMIT_DAILY", action: "deny", when: { "window.1h.amount": { gt: (10n * ONE).toString() } } }]),
    );
    const holder = await newHolder("emil", 30n * ONE);
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        send(holder, { to: freshAddress(), amount: (3n * ONE).toString() }, i % 2 ? { via: other } : {}),
      ),
    );
    expect(answers.filter((a) => a.status === 202)).to.have.length(3);
    expect(answers.filter((a) => a.body.error?.code === "MOVEMENT_DENIED")).to.have.length(3);
  });

  it("counts a user's history without its refused movements: denied and declined ones are no history", async () => {
    // Every movement is held, so its reason shows the history count it was decided with; 13 is denied.
    await useRules(
      ruleSet([
        { code: "DENY_THIRTEEN", action: "deny", when: { amount: { eq: "13" } } },
        { code: "HISTORY_SEEN", action: "review", when: { "history.count": { gte: 0 } } },
      ]),
    );
    const holder = await newHolder("hana", 20n * ONE);
    const historyOf = (reasons: { code: string; details: { observed: Record<string, unknown> } }[]) =>
      reasons.find((r) => r.code === "HISTORY_SEEN")!.details.observed["history.count"];
    const held = async () => {
      const response = await send(holder, { to: freshAddress(), amount: "1" });
      expect(response.body, JSON.stringify(response.body)).to.include({ status: "held" });
      return response;
    };

    const first = await held();
    expect(historyOf(first.body.risk.reasons)).to.equal(0);
    const denied = await send(holder, { to: freshAddress(), amount: "13" });
    expect(denied.body.error.code).to.equal("MOVEMENT_DENIED");
    expect(historyOf(denied.body.error.details.reasons)).to.equal(1);
    const second = await held();
    expect(historyOf(second.body.risk.reasons), "the denied movement is no history").to.equal(1);

    const queue = await api.request("GET", "/v1/reviews?status=open", { key: operator.key });
    const review = queue.body.items.find((r: { movement: { id: string } }) => r.movement.id === first.body.id);
    const rejected = await api.request("POST", `/v1/reviews/${review.id}/reject`, {
      key: operator.key,
      body: { reason: "not the customer's" },
    });
    expect(rejected.body.movement).to.include({ status: "declined" });
    const third = await held();
    expect(historyOf(third.body.risk.reasons), "the declined movement is no history any more").to.equal(1);
  });

  it("reserves an accepted movement's funds: two concurrent sends through two processes cannot both spend them", async () => {
    await useRules(ruleSet([]));
    const holder = await newHolder("finn", 10n * ONE);
    const [a, b] = await Promise.all([
      send(holder, { to: freshAddress(), amount: (6n * ONE).toString() }),
      send(holder, { to: freshAddress(), amount: (6n * ONE).toString() }, { via: other }),
    ]);
    expect([a.status, b.status].sort(), JSON.stringify([a.body, b.body])).to.deep.equal([202, 422]);
    expect([a, b].find((r) => r.status === 422)!.body.error.code).to.equal("INSUFFICIENT_BALANCE");
  });

  it("denies a recipient on the OFAC SDN list (naming list and entry) and a sender on an operator's CSV list", async () => {
    await useRules(ruleSet([]));
    const holder = await newHolder("gwen", 20n * ONE);
    const forbidden = await api.request("POST", "/v1/screening/lists/ofac-sdn/imports", {
      key: holder.key,
      body: { format: "ofac_sdn_xml", content: sdnXml },
    });
    expect(forbidden.status, JSON.stringify(forbidden.body)).to.equal(403);
    const imported = await api.request("POST", "/v1/screening/lists/ofac-sdn/imports", {
      key: operator.key,
      body: { format: "ofac_sdn_xml", content: sdnXml },
    });
    expect(imported.body).to.deep.equal({ list: "ofac-sdn", imported: 2, skipped: 1, total: 2 });

    const denied = await send(holder, { to: SANCTIONED, amount: "5" });
    expect(denied.status).to.equal(403);
    expect(denied.body.error.details.reasons[0]).to.deep.include({ code: "SCREENING_MATCH", action: "deny" });
    expect(denied.body.error.details.reasons[0].details).to.include({
      list: "ofac-sdn",
      entryUid: "90001",
      entryName: "EXAMPLE MIXER",
      party: "recipient",
    });

    const csv = await api.request("POST", "/v1/screening/lists/internal/imports", {
      key: operator.key,
      body: { format: "csv", content: `address,name\n${holder.wallet.address},mule account` },
    });
    expect(csv.body.total).to.equal(1);
    const asSender = await send(holder, { to: freshAddress(), amount: "5" });
    expect(asSender.body.error.details.reasons[0].details).to.include({ list: "internal", party: "sender" });
    const removed = await api.request("DELETE", `/v1/screening/lists/internal/entries/${holder.wallet.address}`, {
      key: operator.key,
    });
    expect(removed.status).to.equal(204);
    expect((await send(holder, { to: freshAddress(), amount: "5" })).status).to.equal(202);
  });

  it("asks for travel-rule data above the threshold off the platform, and stores it with the movement", async () => {
    await useRules(ruleSet([], { travelRule: { threshold: (5n * ONE).toString() } }));
    const holder = await newHolder("hugo", 30n * ONE);
    const peer = await newHolder("ines", 0n);
    const outside = freshAddress();
    const missing = await send(holder, { to: outside, amount: (6n * ONE).toString() });
    expect(missing.status).to.equal(422);
    expect(missing.body.error).to.deep.include({ code: "TRAVEL_RULE_REQUIRED" });
    expect(missing.body.error.details).to.deep.equal({ threshold: (5n * ONE).toString() });
    const travelRule = {
      originator: {
        name: { primaryIdentifier: "Hugo", secondaryIdentifier: "H." },
        geographicAddress: { country: "DE" },
      },
      beneficiary: { name: { primaryIdentifier: "Acme GmbH" }, vasp: { name: "Other Exchange" } },
    };
    const sent = await send(holder, { to: outside, amount: (6n * ONE).toString(), travelRule });
    expect(sent.status, JSON.stringify(sent.body)).to.equal(202);
    const row = await movementRow(sent.body.id);
    expect(row.travelRule).to.deep.include({ threshold: (5n * ONE).toString() });
    expect((row.travelRule as { originator: { accountNumber: string } }).originator.accountNumber).to.equal(
      holder.wallet.address,
    );
    const onPlatform = await send(holder, { to: peer.wallet.address, amount: (6n * ONE).toString() });
    expect(onPlatform.status, "to a wallet of the platform").to.equal(202);
  });

  describe("the review queue", () => {
    const reviewRule: Rule = {
      code: "HELD_FOR_REVIEW",
      action: "review",
      when: { amount: { gte: (5n * ONE).toString() } },
    };

    it("holds, reserves the funds, and relays exactly once when two operators approve at once", async () => {
      await useRules(ruleSet([reviewRule]));
      const holder = await newHolder("jack", 10n * ONE);
      const to = freshAddress();
      const relaysBefore = await api.relayCount();
      const held = await send(holder, { to, amount: (8n * ONE).toString() });
      expect(held.status, JSON.stringify(held.body)).to.equal(202);
      expect(held.body).to.include({ status: "held" });
      expect(held.body.risk.reasons[0]).to.include({ code: "HELD_FOR_REVIEW" });
      const short = await send(holder, { to, amount: (4n * ONE).toString() });
      expect(short.status, "the held 8 are reserved from the 10").to.equal(422);
      expect(short.body.error.details).to.include({ reserved: (8n * ONE).toString() });

      const queue = await api.request("GET", "/v1/reviews?status=open", { key: operator.key });
      const review = queue.body.items.find((r: { movement: { id: string } }) => r.movement.id === held.body.id);
      expect(review).to.include({ status: "open" });
      const own = await api.request("POST", `/v1/reviews/${review.id}/approve`, { key: holder.key, body: {} });
      expect(own.status, "a user cannot approve, not even their own").to.equal(403);
      const second = await api.createUser("operator", "otto");
      const [x, y] = await Promise.all([
        api.request("POST", `/v1/reviews/${review.id}/approve`, { key: operator.key, body: { note: "known payee" } }),
        api.request("POST", `/v1/reviews/${review.id}/approve`, { key: second.key, body: {}, via: other }),
      ]);
      expect([x.status, y.status].sort()).to.deep.equal([200, 409]);
      expect([x, y].find((r) => r.status === 409)!.body.error.code).to.equal("REVIEW_ALREADY_DECIDED");
      const relay = await api.waitForRelay(held.body.relayId);
      expect(relay.state).to.equal("confirmed");
      expect(await api.relayCount()).to.equal(relaysBefore + 1);
      expect(await api.balanceOf(to)).to.equal(8n * ONE);
      const decided = await api.request("GET", `/v1/reviews/${review.id}`, { key: operator.key });
      expect(decided.body).to.include({ status: "approved" });
      expect(decided.body.decidedBy).to.be.oneOf([operator.id, second.id]);
    });

    it("rejects: the movement is declined with the reason its owner sees, nothing on chain or in the ledger", async () => {
      await useRules(ruleSet([reviewRule]));
      const holder = await newHolder("kim", 10n * ONE);
      const to = freshAddress();
      const relaysBefore = await api.relayCount();
      const held = await send(holder, { to, amount: (8n * ONE).toString() });
      const queue = await api.request("GET", "/v1/reviews?status=open", { key: operator.key });
      const review = queue.body.items.find((r: { movement: { id: string } }) => r.movement.id === held.body.id);
      const rejected = await api.request("POST", `/v1/reviews/${review.id}/reject`, {
        key: operator.key,
        body: { reason: "recipient unknown to the customer" },
      });
      expect(rejected.status, JSON.stringify(rejected.body)).to.equal(200);
      expect(rejected.body.movement).to.include({ status: "declined" });
      const again = await api.request("POST", `/v1/reviews/${review.id}/approve`, { key: operator.key, body: {} });
      expect(again.body.error).to.deep.include({ code: "REVIEW_ALREADY_DECIDED" });
      const mine = await api.request("GET", `/v1/wallets/${holder.wallet.id}/transfers`, { key: holder.key });
      expect(mine.body.items[0]).to.include({ status: "declined" });
      expect(mine.body.items[0].review).to.include({ status: "rejected", reason: "recipient unknown to the customer" });
      expect(await api.relayCount()).to.equal(relaysBefore);
      await api.indexer.catchUp();
      expect(await api.balanceOf(to)).to.equal(0n);
      expect(await getBalances(api.database, { chainId: 31337, account: to })).to.deep.equal([]);
      const freed = await send(holder, { to, amount: (4n * ONE).toString() });
      expect(freed.status, "the declined movement's funds are free again").to.equal(202);
    });

    it("records rule changes, screening changes and review decisions in the hash-chained audit log, with who decided", async () => {
      await useRules(ruleSet([reviewRule]));
      const holder = await newHolder("lou", 10n * ONE);
      const listed = freshAddress();
      await api.request("PUT", `/v1/screening/lists/internal/entries/${listed}`, { key: operator.key, body: {} });
      await api.request("DELETE", `/v1/screening/lists/internal/entries/${listed}`, { key: operator.key });
      const held = await send(holder, { to: freshAddress(), amount: (8n * ONE).toString() });
      const queue = await api.request("GET", "/v1/reviews?status=open", { key: operator.key });
      const review = queue.body.items.find((r: { movement: { id: string } }) => r.movement.id === held.body.id);
      await api.request("POST", `/v1/reviews/${review.id}/reject`, { key: operator.key, body: { reason: "mule" } });
      const ownApproval = await api.request("POST", `/v1/reviews/${review.id}/approve`, { key: holder.key, body: {} });
      expect(ownApproval.status).to.equal(403);

      const entries = async (action: string) =>
        (await api.request("GET", `/v1/audit-log?action=${action}&limit=100`, { key: operator.key })).body.items as {
          actor: { userId: string } | null;
          target: string | null;
          outcome: string;
          details: Record<string, unknown> | null;
        }[];
      const target = `internal:${listed.toLowerCase()}`;
      expect((await entries("screening.add")).find((e) => e.target === target)).to.deep.include({ outcome: "success" });
      expect((await entries("screening.remove")).find((e) => e.target === target)).to.deep.include({
        outcome: "success",
      });
      const rejection = (await entries("review.reject")).find((e) => e.target === review.id);
      expect(rejection).to.deep.include({ outcome: "success", details: { reason: "mule" } });
      expect(rejection!.actor).to.include({ userId: operator.id });
      expect((await entries("risk_rules.update")).length).to.be.greaterThan(0);
      const verified = await api.request("GET", "/v1/audit-log/verify", { key: operator.key });
      expect(verified.body).to.include({ valid: true });
    });
  });
});
