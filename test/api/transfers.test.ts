import { expect } from "chai";
import type { Address, Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { HARDHAT_PRIVATE_KEYS } from "../helpers/chain.ts";
import { ONE } from "../helpers/stablecoin.ts";
import { ADMIN_KEY, createApiFixture, newIdempotencyKey, type ApiFixture } from "./helpers/api-fixture.ts";

describe("POST /v1/wallets/:walletId/transfers", () => {
  let api: ApiFixture;
  let user: { id: string; key: string };
  let custodial: { id: string; address: Address };
  let selfCustody: { id: string; address: Address };
  const carol = privateKeyToAccount(HARDHAT_PRIVATE_KEYS[8]);
  const recipient = "0x000000000000000000000000000000000000bEEF" as Address;

  const send = (walletId: string, body: unknown, idempotencyKey: string | null = newIdempotencyKey(), key = user.key) =>
    api.request("POST", `/v1/wallets/${walletId}/transfers`, {
      key,
      body,
      ...(idempotencyKey ? { idempotencyKey } : {}),
    });

  /**
   * Typed data from the API, signed by `signer` (carol unless another is given). `overrides` change the
   * window after the API built it (the API hands out no typed data that could never be relayed), as a
   * client signing its own message would.
   */
  const signedTransfer = async (
    amount: string,
    overrides: { validAfter?: string; validBefore?: string } = {},
    signer = carol,
  ) => {
    const query = new URLSearchParams({ to: recipient, amount });
    const typed = (
      await api.request("GET", `/v1/wallets/${selfCustody.id}/transfers/typed-data?${query}`, { key: user.key })
    ).body;
    Object.assign(typed.message, overrides);
    const message = {
      ...typed.message,
      value: BigInt(typed.message.value),
      validAfter: BigInt(typed.message.validAfter),
      validBefore: BigInt(typed.message.validBefore),
    };
    const signature = await signer.signTypedData({
      domain: typed.domain,
      types: typed.types,
      primaryType: "TransferWithAuthorization",
      message,
    });
    return {
      to: recipient,
      amount,
      validAfter: typed.message.validAfter,
      validBefore: typed.message.validBefore,
      nonce: typed.message.nonce as Hex,
      signature,
    };
  };

  /** Asserts a refused request moved nothing: no relay, no chain balance change, no ledger change. */
  const expectNothingMoved = async (
    response: { status: number; body: { error: { code: string } } },
    status: number,
    code: string,
  ) => {
    expect(response.status, JSON.stringify(response.body)).to.equal(status);
    expect(response.body.error.code).to.equal(code);
    expect(await api.relayCount()).to.equal(relayedBefore);
    expect(await api.balanceOf(recipient)).to.equal(recipientBefore);
  };
  let relayedBefore = 0;
  let recipientBefore = 0n;

  before(async () => {
    api = await createApiFixture("transfers");
    user = await api.createUser("user", "dana");
    custodial = (await api.request("POST", "/v1/wallets", { key: user.key })).body;
    selfCustody = await api.registerSelfCustody(user.key, carol);
    await api.fund(custodial.address, 100n * ONE);
    await api.fund(selfCustody.address, 100n * ONE);
  });
  beforeEach(async () => {
    await api.settleRelays();
    relayedBefore = await api.relayCount();
    recipientBefore = await api.balanceOf(recipient);
  });
  after(async () => {
    await api.close();
  });

  it("sends from a custodial wallet: the service signs, the relay executes, the ledger shows it", async () => {
    const before = await api.balanceOf(custodial.address);
    const response = await send(custodial.id, { to: recipient.toLowerCase(), amount: (5n * ONE).toString() });
    expect(response.status, JSON.stringify(response.body)).to.equal(202);
    expect(response.body).to.include({
      from: custodial.address,
      to: recipient,
      amount: (5n * ONE).toString(),
      status: "queued",
    });
    expect(await api.waitForRelay(response.body.relayId)).to.include({ state: "confirmed" });
    expect(await api.balanceOf(custodial.address)).to.equal(before - 5n * ONE);
    expect(await api.balanceOf(recipient)).to.equal(recipientBefore + 5n * ONE);

    await api.indexer.catchUp();
    const balances = (await api.request("GET", `/v1/wallets/${custodial.id}/balances`, { key: user.key })).body;
    expect(balances.items).to.deep.include({
      token: api.token,
      balance: (95n * ONE).toString(),
      lastChangeBlock: balances.items[0].lastChangeBlock,
    });
    const history = (await api.request("GET", `/v1/wallets/${custodial.id}/history?limit=1`, { key: user.key })).body;
    expect(history.items[0].amount).to.equal((-5n * ONE).toString());
    expect(history.nextCursor).to.be.a("string");
    const older = (
      await api.request("GET", `/v1/wallets/${custodial.id}/history?limit=10&cursor=${history.nextCursor}`, {
        key: user.key,
      })
    ).body;
    expect(older.items.map((item: { amount: string }) => item.amount)).to.deep.equal([(100n * ONE).toString()]);
    const transfers = (await api.request("GET", `/v1/wallets/${custodial.id}/transfers`, { key: user.key })).body;
    // One movement state for every view: after the indexer caught up the transfer is in the ledger.
    expect(transfers.items[0]).to.include({ status: "indexed" });
    const tx = await api.request("GET", `/v1/transactions/${transfers.items[0].transactionHash}`, { key: user.key });
    expect(tx.status).to.equal(200);
    expect(
      tx.body.entries[0].postings
        .map((p: { amount: string }) => BigInt(p.amount))
        .reduce((a: bigint, b: bigint) => a + b, 0n),
    ).to.equal(0n);
    const stranger = await api.createUser("user", "stranger");
    expect(
      (await api.request("GET", `/v1/transactions/${transfers.items[0].transactionHash}`, { key: stranger.key }))
        .status,
    ).to.equal(404);
    const head = await api.chain.publicClient.getBlockNumber();
    const csv = await api.request("GET", `/v1/wallets/${custodial.id}/statement.csv?fromBlock=0&toBlock=${head}`, {
      key: user.key,
    });
    expect(csv.headers["content-type"]).to.match(/text\/csv/);
    expect(String(csv.body).trim().split("\n").pop()).to.equal(`closing,${head},,,,,,,,${95n * ONE}`);
  });

  it("shows a movement as pending until the ledger has it, balances at an earlier block, and filtered history", async () => {
    const response = await send(custodial.id, { to: recipient, amount: "250" });
    expect(response.status, JSON.stringify(response.body)).to.equal(202);
    const pendingNow = (await api.request("GET", `/v1/wallets/${custodial.id}/balances`, { key: user.key })).body;
    expect(pendingNow.pending.map((m: { id: string }) => m.id)).to.include(response.body.id);
    // The owner's other wallet never lists it, though its relay is among the owner's open ones.
    const otherWallet = async () =>
      (await api.request("GET", `/v1/wallets/${selfCustody.id}/balances`, { key: user.key })).body.pending.map(
        (m: { id: string }) => m.id,
      );
    expect(await otherWallet()).to.not.include(response.body.id);
    const relay = await api.waitForRelay(response.body.relayId);
    const beforeIndexing = (await api.request("GET", `/v1/wallets/${custodial.id}/balances`, { key: user.key })).body;
    expect(beforeIndexing.pending.find((m: { id: string }) => m.id === response.body.id)).to.include({
      status: "confirmed",
      transactionHash: relay.transactionHash,
    });
    expect(await otherWallet()).to.not.include(response.body.id);
    await api.indexer.catchUp();
    const indexed = (await api.request("GET", `/v1/wallets/${custodial.id}/balances`, { key: user.key })).body;
    expect(indexed.pending).to.deep.equal([]);
    const lastChange = BigInt(indexed.items[0].lastChangeBlock);
    const earlier = (
      await api.request("GET", `/v1/wallets/${custodial.id}/balances?block=${lastChange - 1n}`, { key: user.key })
    ).body;
    expect(BigInt(earlier.items[0].balance) - BigInt(indexed.items[0].balance)).to.equal(250n);

    const filtered = (
      await api.request(
        "GET",
        `/v1/wallets/${custodial.id}/history?counterparty=${recipient}&fromBlock=${lastChange}`,
        {
          key: user.key,
        },
      )
    ).body;
    expect(filtered.items.map((item: { amount: string }) => item.amount)).to.deep.equal(["-250"]);
    const none = (await api.request("GET", `/v1/wallets/${custodial.id}/history?kind=mint`, { key: user.key })).body;
    expect(none.items).to.deep.equal([]);
    const bad = await api.request("GET", `/v1/wallets/${custodial.id}/history?counterparty=bob`, { key: user.key });
    expect(bad.status).to.equal(400);
    expect(bad.body.error.code).to.equal("VALIDATION_FAILED");
  });

  it("sends from a self-custody wallet with the typed data it signed", async () => {
    const response = await send(selfCustody.id, await signedTransfer("1000"));
    expect(response.status, JSON.stringify(response.body)).to.equal(202);
    expect(await api.waitForRelay(response.body.relayId)).to.include({ state: "confirmed" });
    expect(await api.balanceOf(recipient)).to.equal(recipientBefore + 1000n);
  });

  it("replays the first response for the same Idempotency-Key and body, without a second movement", async () => {
    const key = newIdempotencyKey();
    const body = { to: recipient, amount: "7" };
    const first = await send(custodial.id, body, key);
    const second = await send(custodial.id, body, key);
    expect(second.status).to.equal(first.status);
    expect(second.body).to.deep.equal(first.body);
    expect(second.headers["idempotent-replayed"]).to.equal("true");
    await api.waitForRelay(first.body.relayId);
    expect(await api.relayCount()).to.equal(relayedBefore + 1);
    expect(await api.balanceOf(recipient)).to.equal(recipientBefore + 7n);
  });

  it("answers 422 IDEMPOTENCY_KEY_REUSED for the same key with another body", async () => {
    const key = newIdempotencyKey();
    await send(custodial.id, { to: recipient, amount: "3" }, key);
    const reused = await send(custodial.id, { to: recipient, amount: "4" }, key);
    expect(reused.status).to.equal(422);
    expect(reused.body.error.code).to.equal("IDEMPOTENCY_KEY_REUSED");
    await api.settleRelays();
    expect(await api.balanceOf(recipient)).to.equal(recipientBefore + 3n);
  });

  it("answers 409 IDEMPOTENCY_REQUEST_IN_PROGRESS to a concurrent request with the same key", async () => {
    const key = newIdempotencyKey();
    const body = { to: recipient, amount: "2" };
    const responses = await Promise.all([send(custodial.id, body, key), send(custodial.id, body, key)]);
    expect(responses.map((r) => r.status).sort()).to.deep.equal([202, 409]);
    expect(responses.find((r) => r.status === 409)!.body.error.code).to.equal("IDEMPOTENCY_REQUEST_IN_PROGRESS");
    await api.settleRelays();
    expect(await api.balanceOf(recipient)).to.equal(recipientBefore + 2n);
  });

  it("keys idempotency per principal: another user's same key is independent", async () => {
    const key = newIdempotencyKey();
    const other = await api.createUser("user", "erin");
    const otherWallet = (await api.request("POST", "/v1/wallets", { key: other.key })).body;
    await api.fund(otherWallet.address, 10n);
    const relayedBefore = await api.relayCount();
    const recipientBefore = await api.balanceOf(recipient);
    const first = await send(custodial.id, { to: recipient, amount: "1" }, key);
    const second = await send(otherWallet.id, { to: recipient, amount: "1" }, key, other.key);
    expect([first.status, second.status]).to.deep.equal([202, 202]);
    // Two movements and two relays — not one replayed to the second user.
    expect(second.headers["idempotent-replayed"]).to.equal(undefined);
    expect(second.body.id).to.not.equal(first.body.id);
    expect(second.body.relayId).to.not.equal(first.body.relayId);
    expect(await api.relayCount()).to.equal(relayedBefore + 2);
    await api.settleRelays();
    expect(await api.balanceOf(recipient)).to.equal(recipientBefore + 2n);
  });

  it("answers 400 IDEMPOTENCY_KEY_MISSING without an Idempotency-Key, IDEMPOTENCY_KEY_INVALID with a malformed one", async () => {
    await expectNothingMoved(
      await send(custodial.id, { to: recipient, amount: "1" }, null),
      400,
      "IDEMPOTENCY_KEY_MISSING",
    );
    for (const malformed of ["k1", "has space in it", "x".repeat(256)]) {
      await expectNothingMoved(
        await send(custodial.id, { to: recipient, amount: "1" }, malformed),
        400,
        "IDEMPOTENCY_KEY_INVALID",
      );
    }
  });

  for (const [title, body] of [
    ["a malformed body", { to: recipient }],
    ["an unknown field", { to: recipient, amount: "1", memo: "x" }],
    ["a bad address", { to: "0x1234", amount: "1" }],
    ["a zero amount", { to: recipient, amount: "0" }],
    ["a negative amount", { to: recipient, amount: "-5" }],
    ["a fractional amount", { to: recipient, amount: "1.5" }],
    ["an amount above uint256", { to: recipient, amount: (2n ** 256n).toString() }],
    ["a numeric (not string) amount", { to: recipient, amount: 5 }],
  ] as const) {
    it(`refuses ${title} with 400 VALIDATION_FAILED and moves nothing`, async () => {
      await expectNothingMoved(await send(custodial.id, body), 400, "VALIDATION_FAILED");
    });
  }

  it("refuses an amount above the balance with 422 INSUFFICIENT_BALANCE and moves nothing", async () => {
    await expectNothingMoved(
      await send(custodial.id, { to: recipient, amount: (1000n * ONE).toString() }),
      422,
      "INSUFFICIENT_BALANCE",
    );
    await expectNothingMoved(
      await send(selfCustody.id, await signedTransfer((1000n * ONE).toString())),
      422,
      "INSUFFICIENT_BALANCE",
    );
  });

  it("refuses a typed-data transfer signed by another key with 422 SIGNER_MISMATCH", async () => {
    const mallory = privateKeyToAccount(HARDHAT_PRIVATE_KEYS[7]);
    await expectNothingMoved(
      await send(selfCustody.id, await signedTransfer("10", {}, mallory)),
      422,
      "SIGNER_MISMATCH",
    );
  });

  it("refuses a garbage signature with SIGNATURE_INVALID", async () => {
    const signed = await signedTransfer("10");
    await expectNothingMoved(
      await send(selfCustody.id, { ...signed, signature: `0x${"11".repeat(65)}` }),
      422,
      "SIGNATURE_INVALID",
    );
  });

  it("refuses, with SIGNATURE_INVALID, the holder's own signature in forms the token refuses (high s, v as 0/1)", async () => {
    // viem recovers carol from both, so they were accepted and queued, and the relay then failed
    // on chain: the token's ECDSA.tryRecover takes only v 27/28 and a low s.
    const order = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const signed = await signedTransfer("10");
    const [r, s, v] = [
      signed.signature.slice(2, 66),
      BigInt(`0x${signed.signature.slice(66, 130)}`),
      signed.signature.slice(130),
    ];
    const malleated = `0x${r}${(order - s).toString(16).padStart(64, "0")}${v === "1b" ? "1c" : "1b"}`;
    const asParity = `0x${r}${s.toString(16).padStart(64, "0")}${v === "1b" ? "00" : "01"}`;
    for (const signature of [malleated, asParity])
      await expectNothingMoved(await send(selfCustody.id, { ...signed, signature }), 422, "SIGNATURE_INVALID");
    // The signature as made is still good.
    expect((await send(selfCustody.id, signed)).status).to.equal(202);
  });

  it("refuses a signature over different values (tampered amount) with SIGNER_MISMATCH", async () => {
    const signed = await signedTransfer("10");
    await expectNothingMoved(await send(selfCustody.id, { ...signed, amount: "11" }), 422, "SIGNER_MISMATCH");
  });

  it("refuses an expired authorization with AUTHORIZATION_EXPIRED", async () => {
    await expectNothingMoved(
      await send(selfCustody.id, await signedTransfer("10", { validBefore: "1" })),
      422,
      "AUTHORIZATION_EXPIRED",
    );
  });

  it("refuses a not-yet-valid authorization with AUTHORIZATION_NOT_YET_VALID", async () => {
    await expectNothingMoved(
      await send(selfCustody.id, await signedTransfer("10", { validAfter: "99999999999" })),
      422,
      "AUTHORIZATION_NOT_YET_VALID",
    );
  });

  it("refuses a reused nonce with 409 AUTHORIZATION_NONCE_USED", async () => {
    const signed = await signedTransfer("10");
    const first = await send(selfCustody.id, signed);
    expect(first.status).to.equal(202);
    // Refused while the first is still queued (our record) and once it is mined (the chain).
    const queuedCount = await api.relayCount();
    const whileQueued = await send(selfCustody.id, signed);
    expect(whileQueued.status, JSON.stringify(whileQueued.body)).to.equal(409);
    expect(whileQueued.body.error.code).to.equal("AUTHORIZATION_NONCE_USED");
    expect(await api.relayCount()).to.equal(queuedCount);
    expect(await api.waitForRelay(first.body.relayId)).to.include({ state: "confirmed" });
    relayedBefore = await api.relayCount();
    recipientBefore = await api.balanceOf(recipient);
    await expectNothingMoved(await send(selfCustody.id, signed), 409, "AUTHORIZATION_NONCE_USED");
  });

  it("refuses a signed body on a custodial wallet and an unsigned one on a self-custody wallet", async () => {
    await expectNothingMoved(await send(custodial.id, await signedTransfer("10")), 400, "WALLET_IS_CUSTODIAL");
    await expectNothingMoved(await send(selfCustody.id, { to: recipient, amount: "10" }), 400, "SIGNATURE_REQUIRED");
  });

  it("refuses a transfer from a frozen account with 403 ACCOUNT_FROZEN, and on-chain frozen recipients too", async () => {
    expect(
      (await api.request("POST", `/v1/users/${user.id}/freeze`, { key: ADMIN_KEY, body: { frozen: true } })).status,
    ).to.equal(200);
    await expectNothingMoved(await send(custodial.id, { to: recipient, amount: "1" }), 403, "ACCOUNT_FROZEN");
    await api.request("POST", `/v1/users/${user.id}/freeze`, { key: ADMIN_KEY, body: { frozen: false } });
    await (await api.roles.token.connect(api.roles.freezer).freeze(recipient)).wait();
    await expectNothingMoved(await send(custodial.id, { to: recipient, amount: "1" }), 403, "ACCOUNT_FROZEN");
    await (await api.roles.token.connect(api.roles.freezer).unfreeze(recipient)).wait();
  });

  it("answers 404 for another user's wallet and moves nothing", async () => {
    const other = await api.createUser("user", "frank");
    await expectNothingMoved(
      await send(custodial.id, { to: recipient, amount: "1" }, newIdempotencyKey(), other.key),
      404,
      "WALLET_NOT_FOUND",
    );
  });

  it("answers 503 when Redis is down, and /ready reports it", async () => {
    api.redis.disconnect();
    try {
      await expectNothingMoved(await send(custodial.id, { to: recipient, amount: "1" }), 503, "REDIS_UNAVAILABLE");
      const ready = await api.request("GET", "/ready");
      expect(ready.status).to.equal(503);
      expect(ready.body.redis.ok).to.equal(false);
    } finally {
      await api.redis.connect();
    }
  });
});
