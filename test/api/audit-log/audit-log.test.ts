import { expect } from "chai";
import { desc, eq, gte } from "drizzle-orm";

import { auditEntryHash } from "../../../api/audit-log/index.ts";
import { auditLog } from "../../../api/db/security-schema.ts";
import { ADMIN_KEY, createApiFixture, type ApiFixture } from "../helpers/api-fixture.ts";
import { PASSWORD, signIn, signUp } from "../auth/helpers.ts";

/**
 * Issue 14, audit log: security-relevant actions are appended with who, what, when, where and the
 * outcome; the chain is hash-linked, and an edited, deleted or inserted row — changed directly in
 * the database — is named by GET /v1/audit-log/verify.
 */
describe("API audit log", () => {
  let api: ApiFixture;
  let auditor: { id: string; key: string };

  const verify = async () => {
    const answer = await api.request("GET", "/v1/audit-log/verify", { key: auditor.key });
    expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
    return answer.body as { valid: boolean; entries: number; firstInvalidSeq?: string; problem?: string };
  };
  const rowAt = async (seq: bigint) => (await api.database.db.select().from(auditLog).where(eq(auditLog.seq, seq)))[0]!;

  before(async () => {
    api = await createApiFixture("audit_log", { env: { API_PASSWORD_SCRYPT_LOG2_N: "10" } });
    auditor = await api.createUser("auditor", "the auditor");
    // Some history: a sign-up, a failed and a good sign-in, a key, a session, a freeze.
    const user = await signUp(api, "alma", { remoteAddress: "203.0.113.5" });
    expect((await signIn(api, user.email, "wrong password!", { remoteAddress: "203.0.113.5" })).status).to.equal(401);
    expect((await signIn(api, user.email, PASSWORD)).status).to.equal(201);
    const merchant = await api.createUser("merchant", "shop");
    expect((await api.request("POST", "/v1/api-keys", { key: merchant.key })).status).to.equal(201);
    expect((await api.request("POST", "/v1/auth/sessions", { key: merchant.key })).status).to.equal(201);
    const frozen = await api.request("POST", `/v1/users/${user.userId}/freeze`, {
      key: ADMIN_KEY,
      body: { frozen: true },
    });
    expect(frozen.status).to.equal(200);
  });
  after(async () => {
    await api.close();
  });

  it("records who, what, when, from where and the outcome of each security action, newest first", async () => {
    const listed = await api.request("GET", "/v1/audit-log?limit=100", {
      key: auditor.key,
      headers: { "user-agent": "auditor-cli/1" },
    });
    expect(listed.status).to.equal(200);
    const actions = listed.body.items.map((e: { action: string; outcome: string }) => `${e.action}:${e.outcome}`);
    expect(actions).to.include.members([
      "user.create:success",
      "auth.sign_up:success",
      "auth.sign_in:failure",
      "auth.sign_in:success",
      "api_key.create:success",
      "session.create:success",
      "user.freeze:success",
    ]);
    const seqs = listed.body.items.map((e: { seq: string }) => BigInt(e.seq));
    expect(seqs).to.deep.equal([...seqs].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0)));
    const failed = listed.body.items.find(
      (e: { action: string; outcome: string }) => e.action === "auth.sign_in" && e.outcome === "failure",
    );
    expect(failed).to.include({ ip: "203.0.113.5", actor: null });
    expect(failed.details).to.deep.equal({ code: "INVALID_CREDENTIALS" });
    const freeze = listed.body.items.find((e: { action: string }) => e.action === "user.freeze");
    expect(freeze.actor.role).to.equal("admin");

    const filtered = await api.request("GET", "/v1/audit-log?action=auth.sign_in", { key: auditor.key });
    expect(filtered.body.items.every((e: { action: string }) => e.action === "auth.sign_in")).to.equal(true);
    const user = await signUp(api, "nosy");
    expect((await api.request("GET", "/v1/audit-log", { key: user.token })).status).to.equal(403);
  });

  it("verifies an untouched chain", async () => {
    const result = await verify();
    expect(result.valid).to.equal(true);
    expect(result.entries).to.be.greaterThan(6);
  });

  it("names a row edited in the database", async () => {
    const target = await rowAt(3n);
    await api.database.db.update(auditLog).set({ outcome: "success", ip: "198.51.100.1" }).where(eq(auditLog.seq, 3n));
    try {
      expect(await verify()).to.deep.include({ valid: false, firstInvalidSeq: "3", problem: "edited" });
    } finally {
      await api.database.db
        .update(auditLog)
        .set({ outcome: target.outcome, ip: target.ip })
        .where(eq(auditLog.seq, 3n));
    }
    expect((await verify()).valid).to.equal(true);
  });

  it("names a row deleted from the database", async () => {
    const target = await rowAt(4n);
    await api.database.db.delete(auditLog).where(eq(auditLog.seq, 4n));
    try {
      expect(await verify()).to.deep.include({ valid: false, firstInvalidSeq: "4", problem: "deleted" });
    } finally {
      await api.database.db.insert(auditLog).values(target);
    }
    expect((await verify()).valid).to.equal(true);
  });

  it("names a row inserted into the database, even one hashed and linked as the appender would", async () => {
    const [last] = await api.database.db.select().from(auditLog).orderBy(desc(auditLog.seq)).limit(1);
    const forged = {
      seq: last!.seq + 1n,
      id: crypto.randomUUID(),
      at: new Date(),
      actorUserId: auditor.id,
      actorRole: "admin",
      actorCredentialId: null,
      action: "user.unfreeze",
      target: null,
      outcome: "success",
      ip: "127.0.0.1",
      userAgent: null,
      details: {},
      prevHash: last!.hash,
    };
    await api.database.db.insert(auditLog).values({ ...forged, hash: auditEntryHash(forged) });
    try {
      expect(await verify()).to.deep.include({
        valid: false,
        firstInvalidSeq: String(forged.seq),
        problem: "inserted",
      });
    } finally {
      await api.database.db.delete(auditLog).where(eq(auditLog.seq, forged.seq));
    }
    expect((await verify()).valid).to.equal(true);
  });

  it("names a row removed from the tail, one inserted in the middle and one deleted with the rest renumbered", async () => {
    // In the middle: the rows after it renumbered, as an attacker who wants a gap-free seq must.
    const rows = await api.database.db.select().from(auditLog).orderBy(auditLog.seq);
    const [last] = rows.slice(-1);
    await api.database.db.delete(auditLog).where(eq(auditLog.seq, last!.seq));
    try {
      expect(await verify()).to.deep.include({
        valid: false,
        firstInvalidSeq: String(last!.seq),
        problem: "truncated",
      });
    } finally {
      await api.database.db.insert(auditLog).values(last!);
    }
    // In the middle: a forged row at seq 2, hashed and linked to row 1, and every later row moved up one.
    const later = rows.slice(1);
    const forged = {
      ...rows[0]!,
      seq: 2n,
      id: crypto.randomUUID(),
      action: "user.create",
      prevHash: rows[0]!.hash,
      details: { role: "admin" },
    };
    await api.database.db.delete(auditLog).where(gte(auditLog.seq, 2n));
    await api.database.db
      .insert(auditLog)
      .values([{ ...forged, hash: auditEntryHash(forged) }, ...later.map((row) => ({ ...row, seq: row.seq + 1n }))]);
    try {
      expect(await verify()).to.deep.include({ valid: false, firstInvalidSeq: "2", problem: "inserted" });
    } finally {
      await api.database.db.delete(auditLog).where(gte(auditLog.seq, 2n));
      await api.database.db.insert(auditLog).values(later);
    }
    // Deleted and the rest renumbered down to close the gap: still named.
    await api.database.db.delete(auditLog).where(gte(auditLog.seq, 2n));
    await api.database.db.insert(auditLog).values(later.slice(1).map((row) => ({ ...row, seq: row.seq - 1n })));
    try {
      expect(await verify()).to.deep.include({ valid: false, firstInvalidSeq: "2", problem: "deleted" });
    } finally {
      await api.database.db.delete(auditLog).where(gte(auditLog.seq, 2n));
      await api.database.db.insert(auditLog).values(later);
    }
    expect((await verify()).valid).to.equal(true);
  });
});
