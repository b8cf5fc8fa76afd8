import { expect } from "chai";
import { sql } from "drizzle-orm";
import { generate } from "otplib";

import { createStepUpApprovals, digestOf } from "../../../api/auth/index.ts";
import { createApiFixture, type ApiFixture } from "../helpers/api-fixture.ts";
import { signUp } from "./helpers.ts";

/**
 * Issue 14, step-up bound to intent: an approval names the digest of one movement or security
 * action, is single-use, and is refused for any other amount, recipient, action or user.
 */
describe("API step-up approvals", () => {
  let api: ApiFixture;
  let t0: number;
  const codeAt = (secret: string, ms: number) => generate({ secret, epoch: Math.floor(ms / 1000) });

  before(async () => {
    api = await createApiFixture("auth_step_up", { env: { API_PASSWORD_SCRYPT_LOG2_N: "10" } });
  });
  after(async () => {
    await api.close();
  });
  beforeEach(() => {
    t0 = Date.now();
  });

  const withTotp = async (label: string) => {
    const user = await signUp(api, label);
    const secret = (await api.request("POST", "/v1/auth/totp", { key: user.token })).body.secret as string;
    const confirmed = await api.request("POST", "/v1/auth/totp/confirm", {
      key: user.token,
      body: { code: await codeAt(secret, t0) },
    });
    expect(confirmed.status).to.equal(200);
    return { ...user, secret, recoveryCodes: confirmed.body.recoveryCodes as string[] };
  };
  const approve = (token: string, challengeId: string, answer: Record<string, unknown>) =>
    api.request("POST", "/v1/auth/step-up", { key: token, body: { challengeId, ...answer } });
  const movement = (userId: string, over: Record<string, unknown> = {}) => ({
    v: 1,
    chainId: 31337,
    userId,
    kind: "transfer",
    token: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    from: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    to: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    amount: "250000000",
    payees: [],
    deadline: null,
    idempotencyKey: "idem-1",
    ...over,
  });

  it("asks a session for a step-up before it creates an API key, then creates exactly one with the approval", async () => {
    const user = await withTotp("sam");
    const asked = await api.request("POST", "/v1/api-keys", { key: user.token });
    expect(asked.status, JSON.stringify(asked.body)).to.equal(403);
    expect(asked.body.error.code).to.equal("STEP_UP_REQUIRED");
    const { challenge, canonical } = asked.body.error.details;
    expect(challenge).to.include({ purpose: "security", digest: digestOf(canonical), passkey: null });
    expect(challenge.factors).to.deep.equal(["totp", "recovery_code"]);
    expect(canonical).to.deep.equal({
      v: 1,
      purpose: "stablerail.security",
      action: "create_api_key",
      userId: user.userId,
      target: null,
    });

    const wrong = await approve(user.token, challenge.id, { totp: { code: await codeAt(user.secret, t0) } });
    expect(wrong.status).to.equal(422);
    expect(wrong.body.error.details.reason).to.equal("reused");
    const approved = await approve(user.token, challenge.id, {
      totp: { code: await codeAt(user.secret, t0 + 30_000) },
    });
    expect(approved.status, JSON.stringify(approved.body)).to.equal(201);
    expect(approved.body.approval).to.include({ challengeId: challenge.id, digest: challenge.digest, factor: "totp" });
    const headers = { "stablerail-step-up": approved.body.approval.token };

    const created = await api.request("POST", "/v1/api-keys", { key: user.token, headers });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const again = await api.request("POST", "/v1/api-keys", { key: user.token, headers });
    expect(again.status).to.equal(403);
    expect(again.body.error.code).to.equal("STEP_UP_APPROVAL_INVALID");
    expect(again.body.error.details.reason).to.equal("used");
    expect(again.body.error.details.challenge.purpose).to.equal("security");
    const keys = await api.request("GET", "/v1/api-keys", { key: user.token });
    expect(keys.body.items).to.have.length(1);
  });

  it("refuses an approval for one security action on another (new recovery codes with an API key's approval)", async () => {
    const user = await withTotp("tom");
    const asked = await api.request("POST", "/v1/api-keys", { key: user.token });
    const approved = await approve(user.token, asked.body.error.details.challenge.id, {
      recoveryCode: user.recoveryCodes[0],
    });
    expect(approved.status).to.equal(201);
    const other = await api.request("POST", "/v1/auth/recovery-codes", {
      key: user.token,
      headers: { "stablerail-step-up": approved.body.approval.token },
    });
    expect(other.status).to.equal(403);
    expect(other.body.error.details.reason).to.equal("other_request");
    // The approval was not spent by the refusal: the action it names still goes through.
    const created = await api.request("POST", "/v1/api-keys", {
      key: user.token,
      headers: { "stablerail-step-up": approved.body.approval.token },
    });
    expect(created.status).to.equal(201);
  });

  it("binds a movement's approval to its digest: another amount or recipient is refused, the same movement moves once", async () => {
    const user = await withTotp("una");
    const approvals = createStepUpApprovals(api.app.services);
    const canonical = movement(user.userId);
    const digest = digestOf(canonical);
    const challenge = await approvals.challenge({ userId: user.userId, canonical, digest, reasons: [] });
    expect(challenge).to.include({ purpose: "movement", digest });
    const approved = await approve(user.token, challenge.id, {
      totp: { code: await codeAt(user.secret, t0 + 30_000) },
    });
    expect(approved.status, JSON.stringify(approved.body)).to.equal(201);
    const token = approved.body.approval.token as string;

    const refusalOf = async (other: Record<string, unknown>) => {
      const otherCanonical = movement(user.userId, other);
      const error = await approvals
        .consume({ userId: user.userId, digest: digestOf(otherCanonical), token, canonical: otherCanonical })
        .then(
          () => undefined,
          (e: unknown) => e as { code: string; details: { reason: string; challenge?: { digest: string } } },
        );
      expect(error, JSON.stringify(other)).to.not.equal(undefined);
      expect(error!.code).to.equal("STEP_UP_APPROVAL_INVALID");
      // The fresh challenge names the movement that was sent, not the approved one.
      expect(error!.details.challenge!.digest).to.equal(digestOf(otherCanonical));
      return error!.details.reason;
    };
    expect(await refusalOf({ amount: "250000001" })).to.equal("other_request");
    expect(await refusalOf({ to: "0x90F79bf6EB2c4f870365E785982E1f101E93b906" })).to.equal("other_request");
    expect(await refusalOf({ idempotencyKey: "idem-2" })).to.equal("other_request");

    const consumed = await approvals.consume({ userId: user.userId, digest, token });
    expect(consumed).to.include({ challengeId: challenge.id, factor: "totp" });
    expect(await refusalOf({})).to.equal("used");
  });

  it("lets no other user approve a challenge or spend an approval (an adversary with its own factor)", async () => {
    const alice = await withTotp("alice");
    const mallory = await withTotp("mallory");
    const approvals = createStepUpApprovals(api.app.services);
    const canonical = movement(alice.userId);
    const digest = digestOf(canonical);
    const challenge = await approvals.challenge({ userId: alice.userId, canonical, digest, reasons: [] });
    // Mallory answers Alice's challenge with her own valid code: the challenge is not hers.
    const stolen = await approve(mallory.token, challenge.id, { recoveryCode: mallory.recoveryCodes[0] });
    expect(stolen.status).to.equal(401);
    expect(stolen.body.error.code).to.equal("CHALLENGE_INVALID");
    // Alice approves; Mallory, holding the token, tries to move her own movement of the same shape with it.
    const approved = await approve(alice.token, challenge.id, { recoveryCode: alice.recoveryCodes[0] });
    expect(approved.status).to.equal(201);
    const token = approved.body.approval.token as string;
    const mallorys = movement(mallory.userId);
    const refused = await approvals.consume({ userId: mallory.userId, digest: digestOf(mallorys), token }).then(
      () => "accepted",
      (e: { details: { reason: string } }) => e.details.reason,
    );
    expect(refused).to.equal("unknown");
    const refusedSameDigest = await approvals.consume({ userId: mallory.userId, digest, token }).then(
      () => "accepted",
      (e: { details: { reason: string } }) => e.details.reason,
    );
    expect(refusedSameDigest).to.equal("unknown");
    // Alice's approval is intact.
    expect(await approvals.consume({ userId: alice.userId, digest, token })).to.include({ challengeId: challenge.id });
  });

  it("ends a challenge after 5 wrong answers", async () => {
    const user = await withTotp("val");
    const asked = await api.request("POST", "/v1/api-keys", { key: user.token });
    const id = asked.body.error.details.challenge.id as string;
    for (let i = 0; i < 5; i += 1) {
      expect((await approve(user.token, id, { recoveryCode: "2222-2222-2222" })).status).to.equal(422);
    }
    const ended = await approve(user.token, id, { recoveryCode: user.recoveryCodes[1] });
    expect(ended.status).to.equal(401);
    expect(ended.body.error.code).to.equal("CHALLENGE_INVALID");
  });

  it("ends a challenge and an approval at their expiry (STEP_UP_TTL_SECONDS): a right answer or a held token then moves nothing", async () => {
    const user = await withTotp("wim");
    const approvals = createStepUpApprovals(api.app.services);
    const database = api.app.services.database;
    // Time passing, written where the expiry is kept: the row is aged past its TTL.
    const age = (column: "expires_at" | "approval_expires_at", id: string) =>
      database.query(
        sql`UPDATE step_up_challenges SET ${sql.identifier(column)} = now() - interval '1 second' WHERE id = ${id}`,
      );

    const late = movement(user.userId, { idempotencyKey: "idem-late-challenge" });
    const lateChallenge = await approvals.challenge({
      userId: user.userId,
      canonical: late,
      digest: digestOf(late),
      reasons: [],
    });
    await age("expires_at", lateChallenge.id);
    const tooLate = await approve(user.token, lateChallenge.id, {
      totp: { code: await codeAt(user.secret, t0 + 30_000) },
    });
    expect(tooLate.status, JSON.stringify(tooLate.body)).to.equal(401);
    expect(tooLate.body.error.code).to.equal("CHALLENGE_INVALID");

    const held = movement(user.userId, { idempotencyKey: "idem-late-approval" });
    const digest = digestOf(held);
    const challenge = await approvals.challenge({ userId: user.userId, canonical: held, digest, reasons: [] });
    const approved = await approve(user.token, challenge.id, { recoveryCode: user.recoveryCodes[2] });
    expect(approved.status, JSON.stringify(approved.body)).to.equal(201);
    await age("approval_expires_at", challenge.id);
    const refused = await approvals.consume({ userId: user.userId, digest, token: approved.body.approval.token }).then(
      () => "accepted",
      (e: { code: string; details: { reason: string } }) => `${e.code} ${e.details.reason}`,
    );
    expect(refused).to.equal("STEP_UP_APPROVAL_INVALID expired");
    const [row] = await database.query<{ consumed_at: Date | null }>(
      sql`SELECT consumed_at FROM step_up_challenges WHERE id = ${challenge.id}`,
    );
    expect(row!.consumed_at, "an expired approval is not spent").to.equal(null);
  });
});
