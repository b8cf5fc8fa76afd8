import { expect } from "chai";
import { getAddress } from "viem";

import { ONE } from "../helpers/stablecoin.ts";
import { createApiFixture, newIdempotencyKey, type ApiFixture } from "./helpers/api-fixture.ts";

/**
 * A platform fee (API_PAYMENT_FEE_BPS to API_PAYMENT_FEE_RECEIVER) fixed in every payment's escrow
 * terms: each capture pays the merchant the amount less the fee and the receiver the fee, on chain
 * and in the ledger.
 */
describe("/v1/payments with a platform fee", () => {
  const receiver = getAddress("0x000000000000000000000000000000000000fEE5");
  let api: ApiFixture;

  before(async () => {
    api = await createApiFixture("payment_fees", { paymentFee: { bps: 250, receiver } });
  });
  after(async () => {
    await api.close();
  });

  it("fixes the fee in the terms and splits every capture between merchant and fee receiver", async () => {
    const merchant = await api.createUser("merchant", "fee shop");
    const payer = await api.createUser("user", "fee payer");
    const merchantWallet = (await api.request("POST", "/v1/wallets", { key: merchant.key })).body;
    const payerWallet = (await api.request("POST", "/v1/wallets", { key: payer.key })).body;
    await api.fund(payerWallet.address, 100n * ONE);

    const created = await api.request("POST", "/v1/payments", {
      key: merchant.key,
      body: { walletId: merchantWallet.id, amount: (10n * ONE).toString(), reference: "fee-1" },
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    expect(created.body.terms).to.include({ minFeeBps: 250, maxFeeBps: 250, feeReceiver: receiver });
    const id = created.body.id as string;

    const act = async (key: string, path: string, body: unknown) => {
      const response = await api.request("POST", `/v1/payments/${id}/${path}`, {
        key,
        body,
        idempotencyKey: newIdempotencyKey(),
      });
      expect(response.status, JSON.stringify(response.body)).to.equal(202);
      expect((await api.waitForRelay(response.body.relayId)).state).to.equal("confirmed");
    };
    await act(payer.key, "pay", { walletId: payerWallet.id });
    await act(merchant.key, "captures", { amount: (4n * ONE).toString() });

    // 2.5 % of 4 = 0.1 to the receiver, 3.9 to the merchant.
    expect(await api.balanceOf(receiver)).to.equal(ONE / 10n);
    expect(await api.balanceOf(merchantWallet.address)).to.equal(4n * ONE - ONE / 10n);

    await api.indexer.catchUp();
    const history = (await api.request("GET", `/v1/wallets/${merchantWallet.id}/history`, { key: merchant.key })).body;
    expect(history.items[0]).to.include({ kind: "escrow_capture", amount: (4n * ONE - ONE / 10n).toString() });
    const payment = (await api.request("GET", `/v1/payments/${id}`, { key: merchant.key })).body.payment;
    expect(payment).to.include({ captured: (4n * ONE).toString(), held: (6n * ONE).toString() });
  });
});
