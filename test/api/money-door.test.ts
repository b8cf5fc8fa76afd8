import { expect } from "chai";
import { sql } from "drizzle-orm";
import { parseAbi, zeroAddress, type Address, type Hex } from "viem";

import type { MoneyMovementPolicy } from "../../api/movements/movement-policies.ts";
import { ONE } from "../helpers/stablecoin.ts";
import { createApiFixture, newIdempotencyKey, type ApiFixture } from "./helpers/api-fixture.ts";

const authorizationStateAbi = parseAbi([
  "function authorizationState(address authorizer, bytes32 nonce) view returns (bool)",
]);

/**
 * The money door under faults and bad recipients: issue 11 defects 5 and 6 (a retry after a failed
 * queue or a Redis-caused 5xx), issue 12 items 10 and 14.
 */
describe("The money door", () => {
  let api: ApiFixture;
  let user: { id: string; key: string };
  let wallet: { id: string; address: Address };
  const recipient = "0x000000000000000000000000000000000000bEEF" as Address;

  const send = (body: unknown, idempotencyKey = newIdempotencyKey(), via = api.app) =>
    api.request("POST", `/v1/wallets/${wallet.id}/transfers`, { key: user.key, body, idempotencyKey, via });

  /** Runs `during` while the relay queue's Redis connection is down (the API's own Redis stays up). */
  const withRelayQueueDown = async <T>(during: () => Promise<T>): Promise<T> => {
    const connection = await api.relayQueueConnection();
    connection.disconnect();
    try {
      return await during();
    } finally {
      await connection.connect();
    }
  };

  /** Brings the API's Redis connection back after a test took it down. */
  const redisBack = async () => {
    while (api.redis.status !== "ready") {
      if (api.redis.status === "end" || api.redis.status === "close") await api.redis.connect().catch(() => undefined);
      else await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };

  before(async () => {
    api = await createApiFixture("door");
    user = await api.createUser("user", "gail");
    wallet = (await api.request("POST", "/v1/wallets", { key: user.key })).body;
    await api.fund(wallet.address, 50n * ONE);
  });
  after(async () => {
    await api.close();
  });

  describe("the record of a movement (its statement built once, lib/db/prepared.ts)", () => {
    it("stores each column as sent: no travel rule is SQL NULL, the deadline and request as signed", async () => {
      const sent = await send({ to: recipient, amount: "3" });
      expect(sent.status, JSON.stringify(sent.body)).to.equal(202);
      const [row] = await api.database.query<{
        travel_rule_null: boolean;
        request_type: string;
        deadline_seconds: string;
        valid_before: string;
        amount: string;
        wallet_id: string;
        details_type: string;
      }>(sql`SELECT travel_rule IS NULL AS travel_rule_null, jsonb_typeof(relay_request) AS request_type,
        extract(epoch FROM relay_deadline)::bigint::text AS deadline_seconds,
        relay_request ->> 'validBefore' AS valid_before, amount::text AS amount, wallet_id::text AS wallet_id,
        jsonb_typeof(details) AS details_type
        FROM money_movements WHERE id = ${sent.body.id}`);
      expect(row).to.deep.include({
        travel_rule_null: true,
        request_type: "object",
        amount: "3",
        wallet_id: wallet.id,
        details_type: "object",
      });
      expect(row!.deadline_seconds).to.match(/^\d+$/);
      expect(row!.deadline_seconds).to.equal(row!.valid_before);
    });
  });

  describe("a retry after the relay queue failed (issue 11, defect 5)", () => {
    it("queues the movement it recorded: the 202, the transfer list and the chain show one nonce", async () => {
      const key = newIdempotencyKey();
      const body = { to: recipient, amount: "9" };
      const failed = await withRelayQueueDown(() => send(body, key));
      expect(failed.status, JSON.stringify(failed.body)).to.equal(503);
      expect(failed.body.error.code).to.equal("RELAY_QUEUE_UNAVAILABLE");

      const retried = await send(body, key);
      expect(retried.status, JSON.stringify(retried.body)).to.equal(202);
      const relay = await api.waitForRelay(retried.body.relayId);
      expect(relay.state, relay.error).to.equal("confirmed");
      const nonce = retried.body.nonce as Hex;
      expect(
        await api.chain.publicClient.readContract({
          address: api.token,
          abi: authorizationStateAbi,
          functionName: "authorizationState",
          args: [wallet.address, nonce],
        }),
      ).to.equal(true);
      const listed = (await api.request("GET", `/v1/wallets/${wallet.id}/transfers`, { key: user.key })).body.items;
      expect(listed.filter((m: { relayId: string }) => m.relayId === retried.body.relayId)).to.have.length(1);
      expect(listed.find((m: { relayId: string }) => m.relayId === retried.body.relayId).nonce).to.equal(nonce);
    });

    it("answers a payout retried with the batch it queued", async () => {
      const operator = await api.createUser("operator", "desk");
      await api.fund(api.contracts.settlement, 10n * ONE);
      const key = newIdempotencyKey();
      const body = { items: [{ address: recipient, amount: "5", reference: "retried batch" }] };
      const failed = await withRelayQueueDown(() =>
        api.request("POST", "/v1/payouts", { key: operator.key, body, idempotencyKey: key }),
      );
      expect(failed.status, JSON.stringify(failed.body)).to.equal(503);
      const retried = await api.request("POST", "/v1/payouts", { key: operator.key, body, idempotencyKey: key });
      expect(retried.status, JSON.stringify(retried.body)).to.equal(202);
      expect((await api.waitForRelay(retried.body.relayId)).state).to.equal("confirmed");
      const batches = (await api.request("GET", "/v1/payouts", { key: operator.key })).body.items;
      expect(batches.map((b: { batchId: string }) => b.batchId)).to.deep.equal([retried.body.batchId]);
    });
  });

  describe("a retry after a Redis-caused 5xx (issue 11, defect 6)", () => {
    /** A policy that takes the API's Redis down mid-request, once, as Redis dying would. */
    let armed = false;
    const redisDies: MoneyMovementPolicy = {
      name: "redis dies",
      check: async () => {
        if (!armed) return;
        armed = false;
        const ended = new Promise((resolve) => api.redis.once("end", resolve));
        api.redis.disconnect();
        await ended;
        await api.redis.get("any");
      },
    };

    it("is served at once when Redis is back, not refused IDEMPOTENCY_REQUEST_IN_PROGRESS for a minute", async () => {
      const flaky = await api.buildAnotherApp(undefined, { policies: [redisDies] });
      const key = newIdempotencyKey();
      const body = { to: recipient, amount: "4" };
      armed = true;
      const failed = await send(body, key, flaky);
      expect(failed.status, JSON.stringify(failed.body)).to.equal(503);
      expect(failed.body.error.code).to.equal("REDIS_UNAVAILABLE");
      await redisBack();
      const retried = await send(body, key, flaky);
      expect(retried.status, JSON.stringify(retried.body)).to.equal(202);
    });

    it("is served by another API process once the failed one has cleared its marker", async () => {
      const flaky = await api.buildAnotherApp(undefined, { policies: [redisDies] });
      const key = newIdempotencyKey();
      const body = { to: recipient, amount: "3" };
      armed = true;
      expect((await send(body, key, flaky)).status).to.equal(503);
      await redisBack();
      const marker = `${api.redisPrefix}:idem:${user.id}:${key}`;
      while ((await api.redis.exists(marker)) === 1) await new Promise((resolve) => setTimeout(resolve, 20));
      expect((await send(body, key)).status).to.equal(202);
    });
  });

  describe("recipients (issue 12, item 10)", () => {
    it("refuses the zero address and the platform's own contracts as a transfer's recipient, moving nothing", async () => {
      const relays = await api.relayCount();
      for (const to of [
        zeroAddress,
        api.token,
        api.contracts.paymentEscrow,
        api.contracts.settlement,
        api.contracts.forwarder,
      ]) {
        const refused = await send({ to, amount: "1" });
        expect(refused.status, `${to} ${JSON.stringify(refused.body)}`).to.equal(422);
        expect(refused.body.error.code).to.equal("RECIPIENT_INVALID");
      }
      expect(await api.relayCount()).to.equal(relays);
    });

    it("refuses them as a payout item's address too", async () => {
      const operator = await api.createUser("operator", "desk 2");
      const relays = await api.relayCount();
      for (const address of [zeroAddress, api.token]) {
        const refused = await api.request("POST", "/v1/payouts", {
          key: operator.key,
          idempotencyKey: newIdempotencyKey(),
          body: { items: [{ address, amount: "1", reference: "bad" }] },
        });
        expect(refused.status, JSON.stringify(refused.body)).to.equal(422);
        expect(refused.body.error.code).to.equal("RECIPIENT_INVALID");
      }
      expect(await api.relayCount()).to.equal(relays);
    });
  });
});
