/**
 * C-1 of the contract review: the terms are written by whoever calls, so a pull that rests on an allowance alone lets
 * a stranger name itself operator and merchant of terms whose payer merely approved the escrow, and take the funds.
 * Each test below is an attack that worked on the escrow before the fix (authorize/charge checked only
 * `_msgSender() == terms.operator`, and a permit seen in the mempool was applied for anyone): the attacker tries to
 * move a victim's funds to itself with its own terms, ids and signatures, and must fail with nothing moved.
 */
import { expect } from "chai";
import { network } from "hardhat";

import { signPermit } from "../../helpers/eip712.ts";
import { ONE } from "../../helpers/stablecoin.ts";
import { MAX_UINT, deployEscrow, type Terms } from "./escrow-fixture.ts";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const { loadFixture } = networkHelpers;

const fixture = () => deployEscrow(connection);
type Fixture = Awaited<ReturnType<typeof fixture>>;

/** Terms an attacker writes for itself: the victim pays, the attacker operates and receives, no fee. */
function attackerTerms(f: Fixture, victim: string, overrides: Partial<Terms> = {}): Terms {
  return f.makeTerms({
    operator: f.stranger.address,
    payer: victim,
    merchant: f.stranger.address,
    minFeeBps: 0n,
    maxFeeBps: 0n,
    feeReceiver: ethers.ZeroAddress,
    ...overrides,
  });
}

/** Balances of the victims and the attacker, to show an attack moved nothing. */
async function balances(f: Fixture) {
  const accounts = [f.alice, f.bob, f.merchant, f.operator, f.stranger, f.escrow];
  return Promise.all(accounts.map((a) => f.token.balanceOf(a)));
}

describe("PaymentEscrow against a third party holding only its own inputs (C-1)", () => {
  it("a payer's pending allowance cannot be charged on terms the payer never agreed to", async () => {
    const f = await loadFixture(fixture);
    // Alice approved the escrow for a payment she means to make to the merchant, not yet authorized.
    await f.token.connect(f.alice).approve(f.escrowAddress, 60n * ONE);
    const before = await balances(f);
    const terms = attackerTerms(f, f.alice.address);
    await expect(f.escrow.connect(f.stranger).charge(terms, 60n * ONE, 0))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowNotPreApproved")
      .withArgs(await f.escrow.getPaymentId(terms));
    await expect(f.escrow.connect(f.stranger).authorize(terms, 60n * ONE)).to.be.revertedWithCustomError(
      f.escrow,
      "PaymentEscrowNotPreApproved",
    );
    expect(await balances(f)).to.deep.equal(before);
  });

  it("an unlimited approval does not expose the payer's balance", async () => {
    const f = await loadFixture(fixture);
    await f.token.connect(f.alice).approve(f.escrowAddress, MAX_UINT);
    const whole = await f.token.balanceOf(f.alice);
    const before = await balances(f);
    const terms = attackerTerms(f, f.alice.address, { maxAmount: whole });
    await expect(f.escrow.connect(f.stranger).charge(terms, whole, 0)).to.be.revertedWithCustomError(
      f.escrow,
      "PaymentEscrowNotPreApproved",
    );
    expect(await balances(f)).to.deep.equal(before);
  });

  it("a permit taken from the mempool gives the attacker nothing, and the payer's own payment still goes through", async () => {
    const f = await loadFixture(fixture);
    const permit = await f.signEscrowPermit(f.alice, 10n * ONE);
    // The attacker applies the payer's permit itself, then charges on its own terms.
    await f.token
      .connect(f.stranger)
      .permit(f.alice.address, f.escrowAddress, 10n * ONE, permit.deadline, permit.v, permit.r, permit.s);
    const before = await balances(f);
    await expect(
      f.escrow.connect(f.stranger).charge(attackerTerms(f, f.alice.address), 10n * ONE, 0),
    ).to.be.revertedWithCustomError(f.escrow, "PaymentEscrowNotPreApproved");
    expect(await balances(f)).to.deep.equal(before);
    // Alice's own payment, which she pre-approves, uses the allowance as she meant.
    const terms = f.makeTerms();
    await f.escrow.connect(f.alice).preApprove(terms);
    await expect(f.escrow.connect(f.operator).authorize(terms, 10n * ONE)).to.changeTokenBalances(
      ethers,
      f.token,
      [f.alice, f.escrow],
      [-10n * ONE, 10n * ONE],
    );
  });

  it("a merchant's approval for a refund cannot be drained through a payment the attacker writes", async () => {
    const f = await loadFixture(fixture);
    await f.token.connect(f.minter).mint(f.merchant.address, 50n * ONE);
    await f.token.connect(f.merchant).approve(f.escrowAddress, 15n * ONE);
    const before = await balances(f);
    await expect(
      f.escrow.connect(f.stranger).charge(attackerTerms(f, f.merchant.address), 15n * ONE, 0),
    ).to.be.revertedWithCustomError(f.escrow, "PaymentEscrowNotPreApproved");
    expect(await balances(f)).to.deep.equal(before);
  });

  it("the refund sequence the API used (permit first, refund after) cannot be front-run, and the atomic one leaves nothing to take", async () => {
    const f = await loadFixture(fixture);
    // A paid and captured payment from alice to the merchant.
    const payment = f.makeTerms();
    const a = await f.signReceive(f.alice, payment, 40n * ONE);
    await f.escrow
      .connect(f.operator)
      .chargeWithAuthorization(payment, 40n * ONE, 0, a.validAfter, a.validBefore, a.signature);
    // The old flow: the merchant's permit of the refund amount is mined first...
    const permitNonce = await f.token.nonces(f.merchant.address);
    const permit = await signPermit(f.merchant, f.token, {
      owner: f.merchant.address,
      spender: f.escrowAddress,
      value: 15n * ONE,
      nonce: permitNonce,
      deadline: MAX_UINT,
    });
    await f.token.permit(f.merchant.address, f.escrowAddress, 15n * ONE, MAX_UINT, permit.v, permit.r, permit.s);
    // ...and the attacker's charge between the two finds no consent.
    const before = await balances(f);
    await expect(
      f.escrow.connect(f.stranger).charge(attackerTerms(f, f.merchant.address), 15n * ONE, 0),
    ).to.be.revertedWithCustomError(f.escrow, "PaymentEscrowNotPreApproved");
    expect(await balances(f)).to.deep.equal(before);

    // The atomic refund: the merchant's authorization is bound to this payment's refund; a stranger who submits it
    // can only pay the payer, and cannot aim it at a payment of its own.
    const r = await f.signRefund(f.merchant, payment, 10n * ONE);
    const own = attackerTerms(f, f.stranger.address, { merchant: f.merchant.address, operator: f.merchant.address });
    await expect(
      f.escrow
        .connect(f.stranger)
        .refundWithAuthorization(own, 10n * ONE, r.refunder, r.validAfter, r.validBefore, r.refundSalt, r.signature),
    ).to.be.revertedWithCustomError(f.escrow, "PaymentEscrowRefundExceedsCaptured");
    await expect(
      f.escrow
        .connect(f.stranger)
        .refundWithAuthorization(
          payment,
          10n * ONE,
          r.refunder,
          r.validAfter,
          r.validBefore,
          r.refundSalt,
          r.signature,
        ),
    ).to.changeTokenBalances(ethers, f.token, [f.merchant, f.alice, f.stranger], [-10n * ONE, 10n * ONE, 0n]);
  });

  it("a payer's receive authorization for one payment cannot fund the attacker's terms", async () => {
    const f = await loadFixture(fixture);
    const honest = f.makeTerms();
    const a = await f.signReceive(f.alice, honest, 20n * ONE);
    const before = await balances(f);
    await expect(
      f.escrow
        .connect(f.stranger)
        .chargeWithAuthorization(
          attackerTerms(f, f.alice.address),
          20n * ONE,
          0,
          a.validAfter,
          a.validBefore,
          a.signature,
        ),
    ).to.be.revertedWithCustomError(f.token, "StablecoinInvalidSignature");
    // Nor can the attacker submit the honest terms: only their operator may.
    await expect(
      f.escrow
        .connect(f.stranger)
        .authorizeWithAuthorization(honest, 20n * ONE, a.validAfter, a.validBefore, a.signature),
    )
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowInvalidSender")
      .withArgs(f.stranger.address, f.operator.address);
    expect(await balances(f)).to.deep.equal(before);
  });

  it("a stranger cannot pre-approve terms in the payer's name", async () => {
    const f = await loadFixture(fixture);
    const terms = attackerTerms(f, f.alice.address);
    await expect(f.escrow.connect(f.stranger).preApprove(terms))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowInvalidSender")
      .withArgs(f.stranger.address, f.alice.address);
  });
});
