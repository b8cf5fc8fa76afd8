import { expect } from "chai";
import type { Address, Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { refundNonceOf } from "../../lib/signing/payment-terms.ts";
import { HARDHAT_PRIVATE_KEYS } from "../helpers/chain.ts";
import { ONE } from "../helpers/stablecoin.ts";
import { createApiFixture, newIdempotencyKey, type ApiFixture } from "./helpers/api-fixture.ts";

type Wallet = { id: string; address: Address };
type Principal = { id: string; key: string };
type Response = Awaited<ReturnType<ApiFixture["request"]>>;

/**
 * Merchant payments end to end over HTTP, through the real relayer workers, the real escrow on
 * Hardhat's EVM and the indexer's ledger: create → pay (authorize or charge; custodial or
 * self-custody) → capture / void / refund / reclaim, and every refusal moving nothing.
 */
describe("/v1/payments", () => {
  let api: ApiFixture;
  let merchant: Principal;
  let payer: Principal;
  let merchantWallet: Wallet;
  let payerWallet: Wallet;
  let selfCustody: Wallet;
  const carol = privateKeyToAccount(HARDHAT_PRIVATE_KEYS[8]);

  const post = (path: string, key: string, body: unknown, idempotencyKey: string | null = newIdempotencyKey()) =>
    api.request("POST", `/v1/payments${path}`, { key, body, ...(idempotencyKey ? { idempotencyKey } : {}) });
  const get = (path: string, key: string) => api.request("GET", `/v1/payments${path}`, { key });

  const createRequest = async (amount: bigint, extra: Record<string, unknown> = {}) => {
    const response = await post(
      "/",
      merchant.key,
      { walletId: merchantWallet.id, amount: amount.toString(), reference: `order-${newIdempotencyKey()}`, ...extra },
      null,
    );
    expect(response.status, JSON.stringify(response.body)).to.equal(201);
    return response.body as { id: string; terms: Record<string, unknown>; status: string; paymentId: string | null };
  };

  /** Waits until the movement's relay is confirmed on chain and the indexer has it in the ledger. */
  const settled = async (response: Response) => {
    expect(response.status, JSON.stringify(response.body)).to.equal(202);
    const relay = await api.waitForRelay(response.body.relayId);
    expect(relay.state, relay.error).to.equal("confirmed");
    await api.indexer.catchUp();
    return relay;
  };

  const pay = async (amount: bigint, extra: Record<string, unknown> = {}) => {
    const request = await createRequest(amount, extra);
    await settled(await post(`/${request.id}/pay`, payer.key, { walletId: payerWallet.id }));
    return request;
  };

  /** A refusal: the status and code, and nothing relayed, nothing moved on chain. */
  const expectRefused = async (response: Response, status: number, code: string) => {
    expect(response.status, JSON.stringify(response.body)).to.equal(status);
    expect(response.body.error.code).to.equal(code);
    expect(response.body.error.message).to.be.a("string").and.not.equal("");
    expect(await api.relayCount()).to.equal(relayedBefore);
    expect(await api.balanceOf(payerWallet.address)).to.equal(payerBefore);
    expect(await api.balanceOf(merchantWallet.address)).to.equal(merchantBefore);
    expect(await api.balanceOf(api.contracts.paymentEscrow)).to.equal(escrowBefore);
  };
  let relayedBefore = 0;
  let payerBefore = 0n;
  let merchantBefore = 0n;
  let escrowBefore = 0n;

  before(async () => {
    api = await createApiFixture("payments");
    merchant = await api.createUser("merchant", "coffee shop");
    payer = await api.createUser("user", "erin");
    merchantWallet = (await api.request("POST", "/v1/wallets", { key: merchant.key })).body;
    payerWallet = (await api.request("POST", "/v1/wallets", { key: payer.key })).body;
    selfCustody = await api.registerSelfCustody(payer.key, carol);
    await api.fund(payerWallet.address, 500n * ONE);
    await api.fund(selfCustody.address, 100n * ONE);
  });
  beforeEach(async () => {
    await api.settleRelays();
    relayedBefore = await api.relayCount();
    payerBefore = await api.balanceOf(payerWallet.address);
    merchantBefore = await api.balanceOf(merchantWallet.address);
    escrowBefore = await api.balanceOf(api.contracts.paymentEscrow);
  });
  after(async () => {
    await api.close();
  });

  describe("payment requests", () => {
    it("creates a request with escrow terms fixed by the API, lists it with a cursor and reads it", async () => {
      const first = await createRequest(10n * ONE);
      expect(first.status).to.equal("open");
      expect(first.paymentId).to.equal(null);
      expect(first.terms).to.include({
        merchant: merchantWallet.address,
        token: api.token,
        maxAmount: (10n * ONE).toString(),
        operator: api.operator.address,
        payer: "0x0000000000000000000000000000000000000000",
      });
      const second = await createRequest(2n * ONE, { captureMode: "charge" });

      const page1 = await get("/?limit=1", merchant.key);
      expect(page1.status).to.equal(200);
      expect(page1.body.items.map((item: { id: string }) => item.id)).to.deep.equal([second.id]);
      const page2 = await get(`/?limit=1&cursor=${page1.body.nextCursor}`, merchant.key);
      expect(page2.body.items.map((item: { id: string }) => item.id)).to.deep.equal([first.id]);

      // Payers may read an open request (the merchant shares it as a payment link); other merchants may not.
      expect((await get(`/${first.id}`, payer.key)).body).to.include({ id: first.id, status: "open" });
      // …as a link: what a payer needs, not the merchant's wallet id or the escrow's state (issue 12 item 18).
      expect(Object.keys((await get(`/${first.id}`, payer.key)).body).sort()).to.deep.equal(
        [
          "id",
          "reference",
          "amount",
          "captureMode",
          "status",
          "expiresAt",
          "refundExpiresAt",
          "terms",
          "createdAt",
        ].sort(),
      );
      expect((await get(`/${first.id}`, merchant.key)).body).to.include({ merchantWalletId: merchantWallet.id });
      const stranger = await api.createUser("merchant", "other shop");
      expect((await get(`/${first.id}`, stranger.key)).status).to.equal(404);
      expect((await get("/", stranger.key)).body.items).to.deep.equal([]);
    });

    it("refuses a malformed request, a bad amount, a reused reference and another merchant's wallet", async () => {
      const body = { walletId: merchantWallet.id, amount: "1000", reference: "unique-ref" };
      for (const [bad, code] of [
        [{ ...body, amount: "0" }, "VALIDATION_FAILED"],
        [{ ...body, amount: "-5" }, "VALIDATION_FAILED"],
        [{ ...body, amount: "1.5" }, "VALIDATION_FAILED"],
        [{ ...body, amount: (2n ** 256n).toString() }, "VALIDATION_FAILED"],
        [{ ...body, walletId: "not-a-uuid" }, "VALIDATION_FAILED"],
        [{ ...body, captureMode: "later" }, "VALIDATION_FAILED"],
        [{ ...body, expiresInSeconds: 5 }, "VALIDATION_FAILED"],
        [{ ...body, surprise: true }, "VALIDATION_FAILED"],
      ] as const) {
        const response = await post("/", merchant.key, bad, null);
        expect(response.status, JSON.stringify(bad)).to.equal(400);
        expect(response.body.error.code).to.equal(code);
      }
      expect((await post("/", merchant.key, body, null)).status).to.equal(201);
      const reused = await post("/", merchant.key, body, null);
      expect(reused.status).to.equal(409);
      expect(reused.body.error.code).to.equal("PAYMENT_REFERENCE_TAKEN");

      const stranger = await api.createUser("merchant", "wallet thief");
      expect((await post("/", stranger.key, { ...body, reference: "x" }, null)).status).to.equal(404);
      // Only merchants create payment requests.
      expect((await post("/", payer.key, { ...body, reference: "y" }, null)).status).to.equal(403);
    });
  });

  describe("authorize → partial capture → refund", () => {
    it("holds the payment in escrow, captures in parts, refunds from the merchant, and the ledger follows", async () => {
      const request = await createRequest(10n * ONE);
      const paid = await post(`/${request.id}/pay`, payer.key, { walletId: payerWallet.id });
      expect(paid.body).to.include({ kind: "payment.authorize", amount: (10n * ONE).toString(), status: "queued" });
      await settled(paid);
      expect(await api.balanceOf(payerWallet.address)).to.equal(payerBefore - 10n * ONE);
      expect(await api.balanceOf(api.contracts.paymentEscrow)).to.equal(escrowBefore + 10n * ONE);

      let view = (await get(`/${request.id}`, merchant.key)).body;
      expect(view.status).to.equal("paid");
      expect(view.paymentId).to.match(/^0x[0-9a-f]{64}$/);
      expect(view.payment).to.include({ status: "authorized", held: (10n * ONE).toString(), captured: "0" });

      const captureKey = newIdempotencyKey();
      const capture = await post(
        `/${request.id}/captures`,
        merchant.key,
        { amount: (4n * ONE).toString() },
        captureKey,
      );
      await settled(capture);
      // The same key and body give back the first answer and capture nothing more.
      const replay = await post(`/${request.id}/captures`, merchant.key, { amount: (4n * ONE).toString() }, captureKey);
      expect(replay.status).to.equal(202);
      expect(replay.body).to.deep.equal(capture.body);
      await settled(await post(`/${request.id}/captures`, merchant.key, { amount: (1n * ONE).toString() }));
      expect(await api.balanceOf(merchantWallet.address)).to.equal(merchantBefore + 5n * ONE);

      view = (await get(`/${request.id}`, merchant.key)).body;
      expect(view.payment).to.include({ held: (5n * ONE).toString(), captured: (5n * ONE).toString() });
      expect(view.history.map((h: { event: string }) => h.event)).to.deep.equal([
        "PaymentAuthorized",
        "PaymentCaptured",
        "PaymentCaptured",
      ]);

      // Refund 3 of the 5 captured: one refundWithAuthorization signed with the merchant's key.
      await settled(await post(`/${request.id}/refunds`, merchant.key, { amount: (3n * ONE).toString() }));
      expect(await api.balanceOf(merchantWallet.address)).to.equal(merchantBefore + 2n * ONE);
      expect(await api.balanceOf(payerWallet.address)).to.equal(payerBefore - 10n * ONE + 3n * ONE);
      view = (await get(`/${request.id}`, payer.key)).body;
      expect(view.payment).to.include({ captured: (5n * ONE).toString(), refunded: (3n * ONE).toString() });
      expect(view.pending).to.deep.equal([]);
      // Nothing stays pending in the merchant's wallet either.
      const merchantBalances = await api.request("GET", `/v1/wallets/${merchantWallet.id}/balances`, {
        key: merchant.key,
      });
      expect(merchantBalances.body.pending).to.deep.equal([]);

      // The payer's wallet history shows the authorization and the refund from the ledger.
      const history = (await api.request("GET", `/v1/wallets/${payerWallet.id}/history`, { key: payer.key })).body;
      const kinds = history.items.map((item: { kind: string }) => item.kind);
      expect(kinds).to.include.members(["escrow_authorize", "escrow_refund"]);
    });

    it("refuses a capture above what is held and a refund above what was captured, moving nothing", async () => {
      const request = await pay(6n * ONE);
      await settled(await post(`/${request.id}/captures`, merchant.key, { amount: (2n * ONE).toString() }));
      await api.settleRelays();
      relayedBefore = await api.relayCount();
      payerBefore = await api.balanceOf(payerWallet.address);
      merchantBefore = await api.balanceOf(merchantWallet.address);
      escrowBefore = await api.balanceOf(api.contracts.paymentEscrow);

      const over = await post(`/${request.id}/captures`, merchant.key, { amount: (4n * ONE + 1n).toString() });
      await expectRefused(over, 409, "CAPTURE_EXCEEDS_HELD");
      expect(over.body.error.details).to.deep.equal({
        held: (4n * ONE).toString(),
        amount: (4n * ONE + 1n).toString(),
      });
      await expectRefused(
        await post(`/${request.id}/refunds`, merchant.key, { amount: (2n * ONE + 1n).toString() }),
        409,
        "REFUND_EXCEEDS_CAPTURED",
      );
      await expectRefused(
        await post(`/${request.id}/captures`, merchant.key, { amount: "0" }),
        400,
        "VALIDATION_FAILED",
      );
      await expectRefused(await post(`/${request.id}/captures`, merchant.key, {}), 400, "VALIDATION_FAILED");
      await expectRefused(
        await post(`/${request.id}/captures`, merchant.key, { amount: "1" }, null),
        400,
        "IDEMPOTENCY_KEY_MISSING",
      );
      // Another merchant cannot see it; the payer cannot capture it.
      const stranger = await api.createUser("merchant", "capture thief");
      await expectRefused(
        await post(`/${request.id}/captures`, stranger.key, { amount: "1" }),
        404,
        "PAYMENT_REQUEST_NOT_FOUND",
      );
      await expectRefused(await post(`/${request.id}/captures`, payer.key, { amount: "1" }), 403, "FORBIDDEN");
    });
  });

  describe("charge, void and reclaim", () => {
    it("charges: authorize and capture in one call pays the merchant at once", async () => {
      const request = await pay(3n * ONE, { captureMode: "charge" });
      expect(await api.balanceOf(merchantWallet.address)).to.equal(merchantBefore + 3n * ONE);
      expect(await api.balanceOf(api.contracts.paymentEscrow)).to.equal(escrowBefore);
      const view = (await get(`/${request.id}`, merchant.key)).body;
      expect(view.payment).to.include({ held: "0", captured: (3n * ONE).toString() });
    });

    it("voids: everything held goes back to the payer, and a second void is refused", async () => {
      const request = await pay(7n * ONE);
      await settled(await post(`/${request.id}/captures`, merchant.key, { amount: (2n * ONE).toString() }));
      const voided = await post(`/${request.id}/void`, merchant.key, {});
      expect(voided.body).to.include({ kind: "payment.void", amount: (5n * ONE).toString() });
      await settled(voided);
      expect(await api.balanceOf(payerWallet.address)).to.equal(payerBefore - 2n * ONE);
      expect(await api.balanceOf(api.contracts.paymentEscrow)).to.equal(escrowBefore);
      const view = (await get(`/${request.id}`, merchant.key)).body;
      expect(view.payment).to.include({ status: "voided", held: "0" });

      await api.settleRelays();
      relayedBefore = await api.relayCount();
      payerBefore = await api.balanceOf(payerWallet.address);
      merchantBefore = await api.balanceOf(merchantWallet.address);
      await expectRefused(await post(`/${request.id}/void`, merchant.key, {}), 409, "PAYMENT_NOTHING_HELD");
      await expectRefused(
        await post(`/${request.id}/captures`, merchant.key, { amount: "1" }),
        409,
        "CAPTURE_EXCEEDS_HELD",
      );
    });
  });

  describe("paying", () => {
    it("pays from a self-custody wallet with the signed typed data, and refuses a wrong signer", async () => {
      const request = await createRequest(4n * ONE);
      const typed = await get(`/${request.id}/typed-data?walletId=${selfCustody.id}`, payer.key);
      expect(typed.status, JSON.stringify(typed.body)).to.equal(200);
      expect(typed.body.message).to.include({
        from: carol.address,
        to: api.contracts.paymentEscrow,
        value: (4n * ONE).toString(),
      });
      const message = {
        ...typed.body.message,
        value: BigInt(typed.body.message.value),
        validAfter: BigInt(typed.body.message.validAfter),
        validBefore: BigInt(typed.body.message.validBefore),
      };
      /** The payer's body: the typed data's window (or another one, still signed by `signer`). */
      const body = async (signer: typeof carol, window: { validAfter?: string; validBefore?: string } = {}) => {
        const validAfter = window.validAfter ?? typed.body.message.validAfter;
        const validBefore = window.validBefore ?? typed.body.message.validBefore;
        const signature = await signer.signTypedData({
          domain: typed.body.domain,
          types: typed.body.types,
          primaryType: "ReceiveWithAuthorization",
          message: { ...message, validAfter: BigInt(validAfter), validBefore: BigInt(validBefore) },
        });
        return { walletId: selfCustody.id, validAfter, validBefore, signature };
      };
      const carolBefore = await api.balanceOf(carol.address);

      const mallory = privateKeyToAccount(HARDHAT_PRIVATE_KEYS[9]);
      await expectRefused(await post(`/${request.id}/pay`, payer.key, await body(mallory)), 422, "SIGNER_MISMATCH");
      // A window changed after signing no longer matches the signature.
      await expectRefused(
        await post(`/${request.id}/pay`, payer.key, { ...(await body(carol)), validBefore: "1" }),
        422,
        "SIGNER_MISMATCH",
      );
      await expectRefused(
        await post(`/${request.id}/pay`, payer.key, await body(carol, { validBefore: "1" })),
        422,
        "AUTHORIZATION_EXPIRED",
      );
      await expectRefused(
        await post(
          `/${request.id}/pay`,
          payer.key,
          await body(carol, { validAfter: "99999999999", validBefore: "99999999999" }),
        ),
        422,
        "AUTHORIZATION_NOT_YET_VALID",
      );
      expect((await get(`/${request.id}`, merchant.key)).body.status).to.equal("open");

      await settled(await post(`/${request.id}/pay`, payer.key, await body(carol)));
      expect(await api.balanceOf(carol.address)).to.equal(carolBefore - 4n * ONE);
      const view = (await get(`/${request.id}`, merchant.key)).body;
      expect(view).to.include({ status: "paid", payerWalletId: selfCustody.id });
      expect(view.terms.payer).to.equal(carol.address);
    });

    it("refuses the wrong wallet kind, a paid request, a short balance, a frozen payer and another's wallet", async () => {
      const request = await createRequest(2n * ONE);
      await expectRefused(
        await post(`/${request.id}/pay`, payer.key, { walletId: selfCustody.id }),
        400,
        "SIGNATURE_REQUIRED",
      );
      await expectRefused(
        await post(`/${request.id}/pay`, payer.key, {
          walletId: payerWallet.id,
          validAfter: "0",
          validBefore: "99999999999",
          signature: `0x${"11".repeat(65)}`,
        }),
        400,
        "WALLET_IS_CUSTODIAL",
      );
      await expectRefused(await post(`/${request.id}/pay`, payer.key, { walletId: "nope" }), 400, "VALIDATION_FAILED");
      await expectRefused(
        await post(`/${request.id}/pay`, payer.key, { walletId: payerWallet.id }, null),
        400,
        "IDEMPOTENCY_KEY_MISSING",
      );

      const poor = await api.createUser("user", "poor payer");
      const poorWallet = (await api.request("POST", "/v1/wallets", { key: poor.key })).body as Wallet;
      await expectRefused(
        await post(`/${request.id}/pay`, poor.key, { walletId: poorWallet.id }),
        422,
        "INSUFFICIENT_BALANCE",
      );
      await expectRefused(
        await post(`/${request.id}/pay`, poor.key, { walletId: payerWallet.id }),
        404,
        "WALLET_NOT_FOUND",
      );

      const operator = await api.createUser("operator", "risk desk");
      expect(
        (await api.request("POST", `/v1/users/${payer.id}/freeze`, { key: operator.key, body: { frozen: true } }))
          .status,
      ).to.equal(200);
      try {
        await expectRefused(
          await post(`/${request.id}/pay`, payer.key, { walletId: payerWallet.id }),
          403,
          "ACCOUNT_FROZEN",
        );
      } finally {
        await api.request("POST", `/v1/users/${payer.id}/freeze`, { key: operator.key, body: { frozen: false } });
      }

      const key = newIdempotencyKey();
      const first = await post(`/${request.id}/pay`, payer.key, { walletId: payerWallet.id }, key);
      await settled(first);
      // A retry with the same key returns the first answer; a second payment of the same request is refused.
      expect((await post(`/${request.id}/pay`, payer.key, { walletId: payerWallet.id }, key)).body).to.deep.equal(
        first.body,
      );
      const other = await api.createUser("user", "late payer");
      const otherWallet = (await api.request("POST", "/v1/wallets", { key: other.key })).body as Wallet;
      expect((await post(`/${request.id}/pay`, other.key, { walletId: otherWallet.id })).status).to.equal(404);
      await api.settleRelays();
      relayedBefore = await api.relayCount();
      payerBefore = await api.balanceOf(payerWallet.address);
      merchantBefore = await api.balanceOf(merchantWallet.address);
      escrowBefore = await api.balanceOf(api.contracts.paymentEscrow);
      // Issue 12, item 14: a payment-level code, not the EIP-3009 nonce's.
      await expectRefused(
        await post(`/${request.id}/pay`, payer.key, { walletId: payerWallet.id }),
        409,
        "PAYMENT_ALREADY_PAID",
      );
    });
  });

  describe("a self-custody merchant", () => {
    it("refunds with the one refund authorization it signed; a bad signature, another salt or no signature moves nothing", async () => {
      const shopKeeper = privateKeyToAccount(HARDHAT_PRIVATE_KEYS[14]);
      const shop = await api.createUser("merchant", "self-custody shop");
      const shopWallet = await api.registerSelfCustody(shop.key, shopKeeper);
      const created = await post(
        "/",
        shop.key,
        { walletId: shopWallet.id, amount: (5n * ONE).toString(), reference: "sc-1" },
        null,
      );
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      const id = created.body.id as string;
      await settled(await post(`/${id}/pay`, payer.key, { walletId: payerWallet.id }));
      await settled(await post(`/${id}/captures`, shop.key, { amount: (5n * ONE).toString() }));
      expect(await api.balanceOf(shopWallet.address)).to.equal(5n * ONE);
      await api.settleRelays();
      relayedBefore = await api.relayCount();
      payerBefore = await api.balanceOf(payerWallet.address);
      escrowBefore = await api.balanceOf(api.contracts.paymentEscrow);

      const typed = await api.request("GET", `/v1/payments/${id}/refunds/typed-data?amount=${2n * ONE}`, {
        key: shop.key,
      });
      expect(typed.status, JSON.stringify(typed.body)).to.equal(200);
      const { refundSalt, authorization } = typed.body;
      const paymentId = (await get(`/${id}`, shop.key)).body.paymentId as Hex;
      expect(authorization.primaryType).to.equal("ReceiveWithAuthorization");
      expect(authorization.message).to.include({
        from: shopWallet.address,
        to: api.contracts.paymentEscrow,
        value: (2n * ONE).toString(),
        nonce: refundNonceOf(paymentId, refundSalt),
      });
      const sign = (signer: typeof carol) =>
        signer.signTypedData({
          domain: authorization.domain,
          types: authorization.types,
          primaryType: "ReceiveWithAuthorization",
          message: {
            ...authorization.message,
            value: BigInt(authorization.message.value),
            validAfter: BigInt(authorization.message.validAfter),
            validBefore: BigInt(authorization.message.validBefore),
          },
        });
      const body = async (signer: typeof carol, salt: string = refundSalt) => ({
        amount: (2n * ONE).toString(),
        refundSalt: salt,
        validAfter: authorization.message.validAfter,
        validBefore: authorization.message.validBefore,
        signature: await sign(signer),
      });
      const mallory = privateKeyToAccount(HARDHAT_PRIVATE_KEYS[9]);
      await expectRefused(await post(`/${id}/refunds`, shop.key, await body(mallory)), 422, "SIGNER_MISMATCH");
      // The signature names its nonce through the salt: with another salt it signs nothing the API would send.
      await expectRefused(
        await post(`/${id}/refunds`, shop.key, await body(shopKeeper, `0x${"11".repeat(32)}`)),
        422,
        "SIGNER_MISMATCH",
      );
      await expectRefused(
        await post(`/${id}/refunds`, shop.key, { amount: (2n * ONE).toString() }),
        400,
        "SIGNATURE_REQUIRED",
      );
      // A third party holding the merchant's valid signed body cannot send it: another merchant, or the payer.
      const signedBody = await body(shopKeeper);
      const thief = await api.createUser("merchant", "refund thief");
      expect((await post(`/${id}/refunds`, thief.key, signedBody)).status).to.equal(404);
      expect((await post(`/${id}/refunds`, payer.key, signedBody)).status).to.be.oneOf([403, 404]);
      expect(await api.balanceOf(shopWallet.address)).to.equal(5n * ONE);

      const refunded = await post(`/${id}/refunds`, shop.key, signedBody);
      await settled(refunded);
      expect(await api.balanceOf(shopWallet.address)).to.equal(3n * ONE);
      // Atomic: the merchant never gave the escrow an allowance that anyone could take.
      expect(await api.allowanceOf(shopWallet.address, api.contracts.paymentEscrow)).to.equal(0n);
      expect(await api.balanceOf(payerWallet.address)).to.equal(payerBefore + 2n * ONE);
      const view = (await get(`/${id}`, shop.key)).body;
      expect(view.payment).to.include({ captured: (5n * ONE).toString(), refunded: (2n * ONE).toString() });
    });
  });

  // Last: it moves chain time past the request's expiry.
  describe("reclaim after expiry", () => {
    let selfCustodyPaid: { id: string };

    /** Pays a request from carol's self-custody wallet with the typed data the API hands out. */
    const paySelfCustody = async (amount: bigint, extra: Record<string, unknown>) => {
      const request = await createRequest(amount, extra);
      const typed = (await get(`/${request.id}/typed-data?walletId=${selfCustody.id}`, payer.key)).body;
      const { validAfter, validBefore } = typed.message;
      const signature = await carol.signTypedData({
        domain: typed.domain,
        types: typed.types,
        primaryType: "ReceiveWithAuthorization",
        message: {
          ...typed.message,
          value: BigInt(typed.message.value),
          validAfter: BigInt(validAfter),
          validBefore: BigInt(validBefore),
        },
      });
      await settled(
        await post(`/${request.id}/pay`, payer.key, { walletId: selfCustody.id, validAfter, validBefore, signature }),
      );
      return request;
    };

    before(async () => {
      selfCustodyPaid = await paySelfCustody(3n * ONE, { expiresInSeconds: 120 });
    });

    it("refuses a reclaim before the expiry and a capture after it; the payer takes back what is held", async () => {
      const request = await pay(5n * ONE, { expiresInSeconds: 120 });
      await settled(await post(`/${request.id}/captures`, merchant.key, { amount: (1n * ONE).toString() }));
      await api.settleRelays();
      relayedBefore = await api.relayCount();
      payerBefore = await api.balanceOf(payerWallet.address);
      merchantBefore = await api.balanceOf(merchantWallet.address);
      escrowBefore = await api.balanceOf(api.contracts.paymentEscrow);

      await expectRefused(await post(`/${request.id}/reclaim`, payer.key, {}), 409, "RECLAIM_TOO_EARLY");
      const expiring = await createRequest(1n * ONE, { expiresInSeconds: 60 });
      await api.increaseTime(180);
      await expectRefused(
        await post(`/${request.id}/captures`, merchant.key, { amount: "1" }),
        409,
        "PAYMENT_AUTHORIZATION_EXPIRED",
      );
      await expectRefused(
        await post(`/${expiring.id}/pay`, payer.key, { walletId: payerWallet.id }),
        409,
        "PAYMENT_REQUEST_EXPIRED",
      );
      const stranger = await api.createUser("user", "reclaim thief");
      await expectRefused(await post(`/${request.id}/reclaim`, stranger.key, {}), 404, "PAYMENT_REQUEST_NOT_FOUND");

      const reclaimed = await post(`/${request.id}/reclaim`, payer.key, {});
      expect(reclaimed.body).to.include({ kind: "payment.reclaim", amount: (4n * ONE).toString() });
      await settled(reclaimed);
      expect(await api.balanceOf(payerWallet.address)).to.equal(payerBefore + 4n * ONE);
      expect(await api.balanceOf(api.contracts.paymentEscrow)).to.equal(escrowBefore - 4n * ONE);
      const view = (await get(`/${request.id}`, payer.key)).body;
      expect(view.payment).to.include({ status: "reclaimed", held: "0", captured: (1n * ONE).toString() });
    });

    it("reclaims to a self-custody wallet with the forward request it signed; refuses another signer and a past deadline", async () => {
      await api.increaseTime(180);
      const typed = await get(`/${selfCustodyPaid.id}/reclaim/typed-data`, payer.key);
      expect(typed.status, JSON.stringify(typed.body)).to.equal(200);
      expect(typed.body.message).to.include({ from: carol.address, to: api.contracts.paymentEscrow, value: "0" });
      const sign = (signer: typeof carol, deadline: number = typed.body.message.deadline) =>
        signer.signTypedData({
          domain: typed.body.domain,
          types: typed.body.types,
          primaryType: "ForwardRequest",
          message: {
            ...typed.body.message,
            value: BigInt(typed.body.message.value),
            gas: BigInt(typed.body.message.gas),
            nonce: BigInt(typed.body.message.nonce),
            deadline,
          },
        });
      const carolBefore = await api.balanceOf(carol.address);
      escrowBefore = await api.balanceOf(api.contracts.paymentEscrow);

      const mallory = privateKeyToAccount(HARDHAT_PRIVATE_KEYS[9]);
      const deadline = typed.body.message.deadline as number;
      await expectRefused(
        await post(`/${selfCustodyPaid.id}/reclaim`, payer.key, { deadline, signature: await sign(mallory) }),
        422,
        "SIGNER_MISMATCH",
      );
      await expectRefused(
        await post(`/${selfCustodyPaid.id}/reclaim`, payer.key, { deadline: 1, signature: await sign(carol, 1) }),
        422,
        "FORWARD_REQUEST_EXPIRED",
      );
      await expectRefused(await post(`/${selfCustodyPaid.id}/reclaim`, payer.key, {}), 400, "SIGNATURE_REQUIRED");
      expect(await api.balanceOf(carol.address)).to.equal(carolBefore);

      const reclaimed = await post(`/${selfCustodyPaid.id}/reclaim`, payer.key, {
        deadline,
        signature: await sign(carol),
      });
      expect(reclaimed.body).to.include({ kind: "payment.reclaim", amount: (3n * ONE).toString() });
      await settled(reclaimed);
      expect(await api.balanceOf(carol.address)).to.equal(carolBefore + 3n * ONE);
      expect(await api.balanceOf(api.contracts.paymentEscrow)).to.equal(escrowBefore - 3n * ONE);
      expect((await get(`/${selfCustodyPaid.id}`, payer.key)).body.payment).to.include({
        status: "reclaimed",
        held: "0",
      });
    });
  });

  it("requires an API key", async () => {
    expect((await api.request("GET", "/v1/payments")).status).to.equal(401);
  });
});
