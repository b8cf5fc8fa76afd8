import { expect } from "chai";
import type { Address } from "viem";

import { eq } from "drizzle-orm";

import { relays } from "../../relayer/db/schema.ts";
import { enqueueRelay } from "../../relayer/enqueue-relay.ts";
import { ONE } from "../helpers/stablecoin.ts";
import { ADMIN_KEY, createApiFixture, newIdempotencyKey, type ApiFixture } from "./helpers/api-fixture.ts";

describe("GET /v1/relays: where a relay's time went, and the operators' dead letters", () => {
  let api: ApiFixture;
  let user: { id: string; key: string };
  let wallet: { id: string; address: Address };
  const recipient = "0x000000000000000000000000000000000000dEaD" as Address;

  before(async () => {
    api = await createApiFixture("relays");
    user = await api.createUser("user", "rita");
    wallet = (await api.request("POST", "/v1/wallets", { key: user.key })).body;
    await api.fund(wallet.address, 10n * ONE);
  });
  after(async () => api.close());

  const send = async (amount: string) => {
    const response = await api.request("POST", `/v1/wallets/${wallet.id}/transfers`, {
      key: user.key,
      body: { to: recipient, amount },
      idempotencyKey: newIdempotencyKey(),
    });
    expect(response.status, JSON.stringify(response.body)).to.equal(202);
    return response.body.relayId as string;
  };

  it("shows the requester every transition of its relay with its time, and hides it from others", async () => {
    const relayId = await send("5");
    expect(await api.waitForRelay(relayId)).to.include({ state: "confirmed" });
    const response = await api.request("GET", `/v1/relays/${relayId}`, { key: user.key });
    expect(response.status).to.equal(200);
    expect(response.body).to.include({
      relayId,
      kind: "token.transferWithAuthorization",
      status: "confirmed",
      batchIndex: null,
    });
    const statuses = response.body.transitions.map((t: { status: string }) => t.status);
    expect(statuses).to.deep.equal(["queued", "signed", "submitted", "mined", "confirmed"]);
    const times = response.body.transitions.map((t: { at: string }) => Date.parse(t.at));
    expect(times).to.deep.equal([...times].sort((a: number, b: number) => a - b));
    expect(response.body.transactionHash).to.match(/^0x[0-9a-f]{64}$/);

    const stranger = await api.createUser("user", "sam");
    const hidden = await api.request("GET", `/v1/relays/${relayId}`, { key: stranger.key });
    expect(hidden.status).to.equal(404);
    expect(hidden.body.error.code).to.equal("RELAY_NOT_FOUND");
    expect((await api.request("GET", "/v1/relays", { key: user.key })).status).to.equal(403);
  });

  it("lists a relay the chain refused in the dead-letter view with its decoded reason", async () => {
    const relayId = await send("7");
    await api.waitForRelay(relayId);
    // The same signed authorization queued again under another key: the token refuses the reused nonce.
    const [job] = await api.database.db
      .select({ request: relays.request })
      .from(relays)
      .where(eq(relays.relayId, relayId));
    expect(job, "the relayer records each relay's request").to.not.equal(undefined);
    const { relayId: replayId } = await enqueueRelay(api.workers!.queue, {
      idempotencyKey: `replay-${relayId}`,
      requestedBy: user.id,
      request: job!.request as never,
    });
    expect(await api.waitForRelay(replayId)).to.include({ state: "failed" });

    const operator = await api.createUser("operator", "olga");
    const dead = await api.request("GET", "/v1/relays?status=dead&limit=10", { key: operator.key });
    expect(dead.status).to.equal(200);
    const letter = dead.body.items.find((item: { relayId: string }) => item.relayId === replayId);
    expect(letter).to.include({ status: "failed", errorCode: "RELAY_REVERTED" });
    expect(letter.errorMessage).to.include("StablecoinAuthorizationUsed");
    expect(dead.body.items.map((item: { status: string }) => item.status)).to.not.include("confirmed");
  });

  it("refuses to cancel a relay that was sent with 409 RELAY_NOT_CANCELLABLE, and lets only operators cancel", async () => {
    const relayId = await send("2");
    await api.waitForRelay(relayId);
    const operator = await api.createUser("operator", "otto");
    const refused = await api.request("POST", `/v1/relays/${relayId}/cancel`, { key: operator.key });
    expect(refused.status).to.equal(409);
    expect(refused.body.error.code).to.equal("RELAY_NOT_CANCELLABLE");
    expect((await api.request("POST", `/v1/relays/${relayId}/cancel`, { key: user.key })).status).to.equal(403);
    const missing = await api.request("POST", "/v1/relays/relay-nope/cancel", { key: operator.key });
    expect(missing.status).to.equal(404);
  });

  it("pages through every relay once with the cursor", async () => {
    for (let i = 0; i < 3; i += 1) await api.waitForRelay(await send("1"));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : "?limit=2";
      const response = await api.request("GET", `/v1/relays${query}`, { key: ADMIN_KEY });
      expect(response.status).to.equal(200);
      seen.push(...response.body.items.map((item: { relayId: string }) => item.relayId));
      cursor = response.body.nextCursor;
    } while (cursor);
    expect(seen.length).to.be.greaterThanOrEqual(5);
    expect(new Set(seen).size).to.equal(seen.length);
    const bad = await api.request("GET", "/v1/relays?cursor=bm9wZQ", { key: ADMIN_KEY });
    expect(bad.status).to.equal(400);
    expect(bad.body.error.code).to.equal("CURSOR_INVALID");
  });
});

describe("POST /v1/relays/:id/cancel before any worker took the relay", () => {
  let api: ApiFixture;

  before(async () => (api = await createApiFixture("relays_cancel", { relay: "queue" })));
  after(async () => api.close());

  it("cancels the queued relay: nothing is sent, the movement leaves the pending list", async () => {
    const user = await api.createUser("user", "una");
    const wallet = (await api.request("POST", "/v1/wallets", { key: user.key })).body;
    await api.fund(wallet.address, 100n);
    const response = await api.request("POST", `/v1/wallets/${wallet.id}/transfers`, {
      key: user.key,
      body: { to: "0x000000000000000000000000000000000000dEaD", amount: "40" },
      idempotencyKey: newIdempotencyKey(),
    });
    expect(response.status, JSON.stringify(response.body)).to.equal(202);
    const operator = await api.createUser("operator", "oona");
    const cancelled = await api.request("POST", `/v1/relays/${response.body.relayId}/cancel`, { key: operator.key });
    expect(cancelled.status, JSON.stringify(cancelled.body)).to.equal(200);
    expect(cancelled.body).to.include({ status: "cancelled", errorCode: "RELAY_CANCELLED", transactionHash: null });
    expect(cancelled.body.transitions.map((t: { status: string }) => t.status)).to.deep.equal(["queued", "cancelled"]);
    const again = await api.request("POST", `/v1/relays/${response.body.relayId}/cancel`, { key: operator.key });
    expect(again.status).to.equal(409);

    const balances = (await api.request("GET", `/v1/wallets/${wallet.id}/balances`, { key: user.key })).body;
    expect(balances.pending).to.deep.equal([]);
    expect(await api.balanceOf(wallet.address)).to.equal(100n);
    expect(await api.relayCount()).to.equal(0);
  });
});
