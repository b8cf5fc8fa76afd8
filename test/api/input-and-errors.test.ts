import { expect } from "chai";
import type { Address } from "viem";

import { ONE } from "../helpers/stablecoin.ts";
import { ADMIN_KEY, createApiFixture, newIdempotencyKey, type ApiFixture } from "./helpers/api-fixture.ts";

type Response = Awaited<ReturnType<ApiFixture["request"]>>;

/** A refusal in the one error shape: the status, the code, a message, and nothing else at the top. */
function expectError(response: Response, status: number, code: string) {
  expect(response.status, JSON.stringify(response.body)).to.equal(status);
  expect(response.body).to.be.an("object");
  expect(Object.keys(response.body)).to.deep.equal(["error"]);
  expect(response.body.error.code).to.equal(code);
  expect(response.body.error.message).to.be.a("string").and.not.equal("");
}

const b64 = (text: string) => Buffer.from(text).toString("base64url");

/**
 * Issue 12, items 6, 7, 8, 11 and 12: every malformed input is a 4xx in the one error shape, parsed by
 * one mechanism per kind of input (cursors, numbers, text, addresses, bodies), never a 500.
 */
describe("API input parsing and the one error shape", () => {
  let api: ApiFixture;
  let user: { id: string; key: string };
  let merchant: { id: string; key: string };
  let operator: { id: string; key: string };
  let wallet: { id: string; address: Address };
  let merchantWallet: { id: string; address: Address };
  let endpointId: string;
  const recipient = "0x000000000000000000000000000000000000bEEF";

  before(async () => {
    api = await createApiFixture("input");
    user = await api.createUser("user", "ines");
    merchant = await api.createUser("merchant", "shop");
    operator = await api.createUser("operator", "olga");
    wallet = (await api.request("POST", "/v1/wallets", { key: user.key })).body;
    merchantWallet = (await api.request("POST", "/v1/wallets", { key: merchant.key })).body;
    await api.fund(wallet.address, 10n * ONE);
    endpointId = (
      await api.request("POST", "/v1/webhook-endpoints", { key: merchant.key, body: { url: "http://127.0.0.1:9/h" } })
    ).body.id;
    await api.indexer.catchUp();
  });
  after(async () => {
    await api.close();
  });

  describe("cursors (item 7)", () => {
    // "s:9999999999999999999" — past PostgreSQL's int8, the type of every seq column.
    const oversized = "czo5OTk5OTk5OTk5OTk5OTk5OTk5OQ";

    it("answers 400 CURSOR_INVALID for a cursor past int8 on every list over the API's tables", async () => {
      for (const [path, key] of [
        ["/v1/payments", merchant.key],
        ["/v1/wallets", user.key],
        [`/v1/wallets/${wallet.id}/transfers`, user.key],
        ["/v1/payouts", operator.key],
        [`/v1/webhook-endpoints/${endpointId}/deliveries`, merchant.key],
      ] as const) {
        expectError(await api.request("GET", `${path}?cursor=${oversized}`, { key }), 400, "CURSOR_INVALID");
      }
    });

    it("answers 400 LEDGER_CURSOR_INVALID for a history cursor whose block or log index is out of range", async () => {
      for (const cursor of [b64("99999999999999999999:0:0"), b64("1:99999999999:0")]) {
        expectError(
          await api.request("GET", `/v1/wallets/${wallet.id}/history?cursor=${cursor}`, { key: user.key }),
          400,
          "LEDGER_CURSOR_INVALID",
        );
      }
    });
  });

  describe("numbers in the query (items 7 and 11)", () => {
    it("refuses a block number or time past int8 with 400 VALIDATION_FAILED", async () => {
      const big = "9223372036854775808";
      for (const query of [`balances?block=${big}`, `history?fromBlock=${big}`, `history?toBlock=${big}`]) {
        expectError(
          await api.request("GET", `/v1/wallets/${wallet.id}/${query}`, { key: user.key }),
          400,
          "VALIDATION_FAILED",
        );
      }
      for (const query of [`history?fromTime=${big}`, `statement.csv?fromBlock=0&toBlock=${big}`]) {
        expectError(
          await api.request("GET", `/v1/wallets/${wallet.id}/${query}`, { key: user.key }),
          400,
          "VALIDATION_FAILED",
        );
      }
    });

    it("takes only plain decimal integers as numbers: 1e1, +1, ' 1', 01 and 1.0 are refused", async () => {
      for (const limit of ["1e1", "%2B1", "%201", "01", "1.0", "0x10", ""]) {
        expectError(
          await api.request("GET", `/v1/wallets?limit=${limit}`, { key: user.key }),
          400,
          "VALIDATION_FAILED",
        );
      }
      expect((await api.request("GET", "/v1/wallets?limit=10", { key: user.key })).status).to.equal(200);
      expectError(
        await api.request("GET", `/v1/wallets/${wallet.id}/balances?block=01`, { key: user.key }),
        400,
        "VALIDATION_FAILED",
      );
    });
  });

  describe("text (item 7)", () => {
    it("refuses a NUL character in a stored name, a payment reference and a path parameter with 400", async () => {
      expectError(
        await api.request("POST", "/v1/users", { key: ADMIN_KEY, body: { role: "user", name: "a\u0000b" } }),
        400,
        "VALIDATION_FAILED",
      );
      expectError(
        await api.request("POST", "/v1/payments", {
          key: merchant.key,
          body: { walletId: merchantWallet.id, amount: "100", reference: "order\u00001" },
        }),
        400,
        "VALIDATION_FAILED",
      );
      expectError(await api.request("GET", "/v1/relays/a%00b", { key: user.key }), 400, "VALIDATION_FAILED");
    });
  });

  describe("the router's own errors (item 8)", () => {
    it("answers a malformed percent-encoding in the path with 400 in the one shape", async () => {
      expectError(await api.request("GET", "/v1/wallets/%ZZ", { key: user.key }), 400, "URL_INVALID");
    });

    it("answers a path parameter past the router's limit with 414 in the one shape", async () => {
      expectError(await api.request("GET", `/v1/relays/${"r".repeat(150)}`, { key: user.key }), 414, "URL_TOO_LONG");
    });

    it("answers an unknown route and an unknown method with 404 ROUTE_NOT_FOUND in the one shape", async () => {
      expectError(await api.request("GET", "/v2/anything"), 404, "ROUTE_NOT_FOUND");
      expectError(await api.request("DELETE", "/v1/wallets"), 404, "ROUTE_NOT_FOUND");
    });
  });

  describe("request ids (item 6)", () => {
    it("echoes a well-formed X-Request-Id and replaces any other with a generated one", async () => {
      const good = "9b2f8c1e-5d4a-4c3b-a1e2-0f9d8c7b6a51";
      const echoed = await api.request("GET", "/health", { headers: { "x-request-id": good } });
      expect(echoed.headers["x-request-id"]).to.equal(good);
      for (const forged of ["<script>alert(1)</script>", "x", "a".repeat(300), "id with spaces"]) {
        const response = await api.request("GET", "/health", { headers: { "x-request-id": forged } });
        expect(response.headers["x-request-id"]).to.not.equal(forged);
        expect(response.headers["x-request-id"]).to.match(/^[0-9a-f-]{36}$/);
      }
    });
  });

  describe("addresses (item 11)", () => {
    it("accepts an all-lowercase or checksummed address and refuses a mixed-case one with a bad checksum", async () => {
      const badChecksum = "0x000000000000000000000000000000000000BEEF";
      expectError(
        await api.request("GET", `/v1/wallets/${wallet.id}/transfers/typed-data?to=${badChecksum}&amount=1`, {
          key: user.key,
        }),
        400,
        "VALIDATION_FAILED",
      );
      const relays = await api.relayCount();
      expectError(
        await api.request("POST", `/v1/wallets/${wallet.id}/transfers`, {
          key: user.key,
          idempotencyKey: newIdempotencyKey(),
          body: { to: "0xAbCdEf0000000000000000000000000000000001", amount: "1" },
        }),
        400,
        "VALIDATION_FAILED",
      );
      expect(await api.relayCount()).to.equal(relays);
    });
  });

  describe("bodies (items 5 and 11)", () => {
    it("refuses an unknown field on POST /v1/api-keys (a role cannot be asked for) with 400", async () => {
      expectError(
        await api.request("POST", "/v1/api-keys", { key: user.key, body: { role: "admin" } }),
        400,
        "VALIDATION_FAILED",
      );
    });

    it("refuses a body on a POST that takes none, and a content type other than JSON, with 4xx", async () => {
      const plain = await api.app.inject({
        method: "POST",
        url: "/v1/wallets",
        headers: { authorization: `Bearer ${user.key}`, "content-type": "text/plain" },
        payload: "hello",
      });
      expectError(
        { status: plain.statusCode, body: plain.json(), headers: plain.headers },
        415,
        "UNSUPPORTED_MEDIA_TYPE",
      );
      const withBody = await api.request("POST", "/v1/wallets", { key: user.key, body: { anything: 1 } });
      expectError(withBody, 400, "VALIDATION_FAILED");
      expect((await api.request("POST", "/v1/wallets", { key: user.key })).status).to.equal(201);
      expect((await api.request("POST", "/v1/wallets", { key: user.key, body: {} })).status).to.equal(201);
    });

    it("refuses JSON nested deeper than any request needs with 400, without parsing it all", async () => {
      const deep = `${"[".repeat(10_000)}${"]".repeat(10_000)}`;
      const response = await api.app.inject({
        method: "POST",
        url: "/v1/users",
        headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
        payload: deep,
      });
      expectError(
        { status: response.statusCode, body: response.json(), headers: response.headers },
        400,
        "JSON_TOO_DEEP",
      );
    });
  });

  describe("blocks the ledger does not have yet (item 12)", () => {
    it("refuses balances and a statement as of a block past the indexed head with 409 BLOCK_NOT_INDEXED", async () => {
      expectError(
        await api.request("GET", `/v1/wallets/${wallet.id}/balances?block=999999999`, { key: user.key }),
        409,
        "BLOCK_NOT_INDEXED",
      );
      expectError(
        await api.request("GET", `/v1/wallets/${wallet.id}/statement.csv?fromBlock=0&toBlock=999999999`, {
          key: user.key,
        }),
        409,
        "BLOCK_NOT_INDEXED",
      );
      const head = (await api.indexer.catchUp(), await api.chain.publicClient.getBlockNumber());
      const statement = await api.request("GET", `/v1/wallets/${wallet.id}/statement.csv?fromBlock=0&toBlock=${head}`, {
        key: user.key,
      });
      expect(statement.status).to.equal(200);
    });

    it("never hands out typed data that has already expired", async () => {
      expectError(
        await api.request(
          "GET",
          `/v1/wallets/${wallet.id}/transfers/typed-data?to=${recipient}&amount=1&validBefore=0`,
          {
            key: user.key,
          },
        ),
        422,
        "AUTHORIZATION_EXPIRED",
      );
      expectError(
        await api.request(
          "GET",
          `/v1/wallets/${wallet.id}/transfers/typed-data?to=${recipient}&amount=1&validAfter=99999999999&validBefore=99999999998`,
          { key: user.key },
        ),
        400,
        "VALIDATION_FAILED",
      );
    });
  });

  describe("another principal's wallet (issue 12, 404 gaps)", () => {
    it("answers 404 WALLET_NOT_FOUND for another user's statement.csv and transfer typed data, as for a wallet that does not exist", async () => {
      const other = await api.createUser("user", "nosy");
      const recipient = merchantWallet.address;
      for (const url of [
        `/v1/wallets/${wallet.id}/statement.csv?fromBlock=0&toBlock=0`,
        `/v1/wallets/${wallet.id}/transfers/typed-data?to=${recipient}&amount=1`,
      ]) {
        const answer = await api.request("GET", url, { key: other.key });
        expect(answer.status, url).to.equal(404);
        expect(answer.body.error.code, url).to.equal("WALLET_NOT_FOUND");
        // The owner gets past the ownership check on the same URL (any other answer than 404).
        expect((await api.request("GET", url, { key: user.key })).status, url).to.not.equal(404);
      }
    });
  });
});
