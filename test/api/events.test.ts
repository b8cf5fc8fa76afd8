import { expect } from "chai";
import type { Address } from "viem";

import { createApiFixture, newIdempotencyKey, type ApiFixture } from "./helpers/api-fixture.ts";

/**
 * GET /v1/events/wallets/:walletId — server-sent events of a wallet over real HTTP: the first
 * snapshot at once, then one event each time a movement moves or the ledger changes, until the
 * credential ends.
 */
type Event = { event: string; data: any }; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Reads server-sent events from a fetch response, as the wallet UI does. */
function readEvents(response: Response) {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const queue: Event[] = [];
  let ended = false;
  const pump = async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const event = /^event: (.+)$/m.exec(block)?.[1];
        const data = /^data: (.+)$/m.exec(block)?.[1];
        if (event && data) queue.push({ event, data: JSON.parse(data) });
      }
    }
    ended = true;
  };
  const pumping = pump().catch(() => (ended = true));
  return {
    /** The next event matching `predicate` (events before it are consumed). */
    async next(predicate: (event: Event) => boolean = () => true): Promise<Event> {
      for (;;) {
        const index = queue.findIndex(predicate);
        if (index >= 0) return queue.splice(0, index + 1).pop()!;
        if (ended) throw new Error("the stream ended");
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    get ended() {
      return ended;
    },
    async close() {
      await reader.cancel().catch(() => undefined);
      await pumping;
    },
  };
}

describe("GET /v1/events/wallets/:walletId (live wallet events)", function () {
  this.timeout(120_000);
  let api: ApiFixture;
  let base: string;
  let user: { id: string; key: string };
  let wallet: { id: string; address: Address };

  const open = (walletId: string, key: string | undefined) =>
    fetch(`${base}/v1/events/wallets/${walletId}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });

  before(async () => {
    api = await createApiFixture("events");
    base = await api.app.listen({ host: "127.0.0.1", port: 0 });
    user = await api.createUser("user", "watcher");
    wallet = (await api.request("POST", "/v1/wallets", { key: user.key })).body;
  });

  after(async () => {
    await api.close();
  });

  it("answers 401 without a credential and 404 WALLET_NOT_FOUND for another principal's wallet", async () => {
    const anonymous = await open(wallet.id, undefined);
    expect(anonymous.status).to.equal(401);
    expect(((await anonymous.json()) as { error: { code: string } }).error.code).to.equal("UNAUTHENTICATED");
    const stranger = await api.createUser("user", "stranger");
    const response = await open(wallet.id, stranger.key);
    expect(response.status).to.equal(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).to.equal("WALLET_NOT_FOUND");
  });

  it("sends the snapshot at once, then the funds and a transfer moving from queued to indexed without asking again", async () => {
    const response = await open(wallet.id, user.key);
    expect(response.status).to.equal(200);
    expect(response.headers.get("content-type")).to.match(/^text\/event-stream/);
    const events = readEvents(response);
    try {
      const first = await events.next((e) => e.event === "wallet");
      expect(first.data).to.include({ walletId: wallet.id });
      expect(first.data.balances).to.deep.equal([]);
      expect(first.data.history).to.deep.equal([]);

      await api.fund(wallet.address, 5_000_000n);
      await api.indexer.catchUp();
      const funded = await events.next((e) => e.event === "wallet" && e.data.balances.length > 0);
      expect(funded.data.balances[0].balance).to.equal("5000000");
      expect(funded.data.history[0]).to.include({ amount: "5000000" });

      const other = await api.createUser("user", "payee");
      const payee = (await api.request("POST", "/v1/wallets", { key: other.key })).body as { address: Address };
      const sent = await api.request("POST", `/v1/wallets/${wallet.id}/transfers`, {
        key: user.key,
        idempotencyKey: newIdempotencyKey(),
        body: { to: payee.address, amount: "1250000" },
      });
      expect(sent.status).to.equal(202);
      const movementId = sent.body.id as string;
      const moving = await events.next(
        (e) => e.event === "wallet" && e.data.movements.some((m: { id: string }) => m.id === movementId),
      );
      const state = moving.data.movements.find((m: { id: string }) => m.id === movementId);
      expect(state).to.include({ amount: "1250000", to: payee.address });
      expect(["queued", "submitted", "confirmed"]).to.include(state.status);

      await api.settleRelays();
      await api.indexer.catchUp();
      const indexed = await events.next(
        (e) =>
          e.event === "wallet" &&
          e.data.movements.some((m: { id: string; status: string }) => m.id === movementId && m.status === "indexed"),
      );
      expect(indexed.data.balances[0].balance).to.equal("3750000");
      expect(indexed.data.history[0]).to.include({ amount: "-1250000", balanceAfter: "3750000" });
    } finally {
      await events.close();
    }
  });

  it("ends the stream with an end event UNAUTHENTICATED once its session is revoked", async () => {
    const session = (await api.request("POST", "/v1/auth/sessions", { key: user.key })).body as {
      id: string;
      token: string;
    };
    const response = await open(wallet.id, session.token);
    expect(response.status).to.equal(200);
    const events = readEvents(response);
    try {
      await events.next((e) => e.event === "wallet");
      const revoked = await api.request("DELETE", `/v1/auth/sessions/${session.id}`, { key: session.token });
      expect(revoked.status).to.equal(204);
      const end = await events.next((e) => e.event === "end");
      expect(end.data.code).to.equal("UNAUTHENTICATED");
      await events.next(() => false).catch((error: Error) => expect(error.message).to.equal("the stream ended"));
    } finally {
      await events.close();
    }
  });

  it("refuses a ninth stream of one principal with 429 RATE_LIMITED", async () => {
    const streams = [];
    try {
      for (let i = 0; i < 8; i++) {
        const response = await open(wallet.id, user.key);
        expect(response.status).to.equal(200);
        streams.push(readEvents(response));
      }
      const ninth = await open(wallet.id, user.key);
      expect(ninth.status).to.equal(429);
      expect(((await ninth.json()) as { error: { code: string } }).error.code).to.equal("RATE_LIMITED");
    } finally {
      for (const stream of streams) await stream.close();
    }
  });
});
