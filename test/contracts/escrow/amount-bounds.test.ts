/**
 * The escrow stores a payment's held, captured and refunded amounts in 120 bits each (held, captured, status and
 * the payer's pre-approval share one slot), so it refuses to authorize more than 2^120 - 1. These tests pin the
 * bound and that nothing is lost or truncated at it, and that the pre-approval kept in the same slot neither
 * disturbs the amounts nor is disturbed by them.
 */
import { expect } from "chai";
import { network } from "hardhat";

import { INITIAL_BALANCE, ONE } from "../../helpers/stablecoin.ts";
import { MAX_UINT, Status, deployEscrow } from "./escrow-fixture.ts";

const connection = await network.create();
const { networkHelpers } = connection;

/** The most a payment may hold, capture or refund. */
const MAX_UINT120 = 2n ** 120n - 1n;

const fixture = () => deployEscrow(connection);

/** The fixture with a minter that can mint past the usual allowance. */
async function unlimited() {
  const f = await networkHelpers.loadFixture(fixture);
  await f.token.connect(f.minterAdmin).configureMinter(f.minter.address, MAX_UINT);
  return f;
}

describe("PaymentEscrow amount bound (2^120 - 1)", () => {
  it("reverts with PaymentEscrowAmountOverflow(paymentId, amount, 2^120 - 1) in every authorizing form, moving nothing", async () => {
    const f = await networkHelpers.loadFixture(fixture);
    const terms = f.makeTerms({ maxAmount: MAX_UINT });
    const id = await f.escrow.getPaymentId(terms);
    await f.token.connect(f.alice).approve(f.escrowAddress, MAX_UINT);
    await f.escrow.connect(f.alice).preApprove(terms);
    const escrow = f.escrow.connect(f.operator);
    for (const amount of [MAX_UINT120 + 1n, MAX_UINT]) {
      const a = await f.signReceive(f.alice, terms, amount);
      const attempts = [
        escrow.authorize(terms, amount),
        escrow.authorizeWithAuthorization(terms, amount, a.validAfter, a.validBefore, a.signature),
        escrow.charge(terms, amount, 0),
        escrow.chargeWithAuthorization(terms, amount, 0, a.validAfter, a.validBefore, a.signature),
      ];
      for (const attempt of attempts) {
        await expect(attempt)
          .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowAmountOverflow")
          .withArgs(id, amount, MAX_UINT120);
      }
    }
    expect(await f.escrow.paymentState(id)).to.deep.equal([0n, 0n, 0n, Status.None]);
    expect(await f.escrow.isPreApproved(id)).to.equal(true);
    expect(await f.token.balanceOf(f.escrowAddress)).to.equal(0n);
  });

  it("holds, captures and refunds exactly 2^120 - 1, and the escrow's balance stays what its payment holds", async () => {
    const f = await unlimited();
    await f.token.connect(f.minter).mint(f.alice.address, MAX_UINT120);
    const terms = f.makeTerms({ maxAmount: MAX_UINT, minFeeBps: 0n, maxFeeBps: 0n });
    const id = await f.escrow.getPaymentId(terms);
    const escrow = f.escrow.connect(f.operator);
    const a = await f.signReceive(f.alice, terms, MAX_UINT120);
    await escrow.authorizeWithAuthorization(terms, MAX_UINT120, a.validAfter, a.validBefore, a.signature);
    expect(await f.escrow.paymentState(id)).to.deep.equal([MAX_UINT120, 0n, 0n, Status.Authorized]);
    expect(await f.token.balanceOf(f.escrowAddress)).to.equal(MAX_UINT120);

    const first = MAX_UINT120 / 2n;
    await escrow.capture(terms, first, 0);
    expect(await f.escrow.paymentState(id)).to.deep.equal([MAX_UINT120 - first, first, 0n, Status.Captured]);
    await escrow.capture(terms, MAX_UINT120 - first, 0);
    expect(await f.escrow.paymentState(id)).to.deep.equal([0n, MAX_UINT120, 0n, Status.Captured]);
    expect(await f.token.balanceOf(f.escrowAddress)).to.equal(0n);

    await f.token.connect(f.merchant).approve(f.escrowAddress, MAX_UINT);
    await f.escrow.connect(f.merchant).refund(terms, MAX_UINT120 - 1n);
    await expect(f.escrow.connect(f.merchant).refund(terms, 2n))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowRefundExceedsCaptured")
      .withArgs(id, 1n, 2n);
    await f.escrow.connect(f.merchant).refund(terms, 1n);
    expect(await f.escrow.paymentState(id)).to.deep.equal([0n, MAX_UINT120, MAX_UINT120, Status.Captured]);
    expect(await f.token.balanceOf(f.alice.address)).to.equal(INITIAL_BALANCE + MAX_UINT120);
  });

  it("charges 2^120 - 1 by allowance, then voids nothing: held 0, everything captured", async () => {
    const f = await unlimited();
    await f.token.connect(f.minter).mint(f.alice.address, MAX_UINT120);
    const terms = f.makeTerms({ maxAmount: MAX_UINT120 });
    const id = await f.escrow.getPaymentId(terms);
    await f.token.connect(f.alice).approve(f.escrowAddress, MAX_UINT120);
    await f.escrow.connect(f.alice).preApprove(terms);
    await f.escrow.connect(f.operator).charge(terms, MAX_UINT120, 500);
    expect(await f.escrow.paymentState(id)).to.deep.equal([0n, MAX_UINT120, 0n, Status.Captured]);
    expect(await f.escrow.isPreApproved(id)).to.equal(true);
    await expect(f.escrow.connect(f.operator).void(terms))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowInsufficientHeld")
      .withArgs(id, 0n, 1n);
  });
});

describe("PaymentEscrow pre-approval kept beside the payment's amounts", () => {
  it("preApprove leaves the payment unknown (status None, nothing held) and survives authorize, capture and void", async () => {
    const f = await networkHelpers.loadFixture(fixture);
    const terms = f.makeTerms();
    const id = await f.escrow.getPaymentId(terms);
    const escrow = f.escrow.connect(f.operator);
    expect(await f.escrow.isPreApproved(id)).to.equal(false);
    await f.escrow.connect(f.alice).preApprove(terms);
    await f.escrow.connect(f.alice).preApprove(terms);
    expect(await f.escrow.isPreApproved(id)).to.equal(true);
    expect(await f.escrow.paymentState(id)).to.deep.equal([0n, 0n, 0n, Status.None]);
    await f.token.connect(f.alice).approve(f.escrowAddress, 10n * ONE);
    await escrow.authorize(terms, 10n * ONE);
    expect(await f.escrow.paymentState(id)).to.deep.equal([10n * ONE, 0n, 0n, Status.Authorized]);
    await escrow.capture(terms, 4n * ONE, 0);
    await escrow.void(terms);
    expect(await f.escrow.paymentState(id)).to.deep.equal([0n, 4n * ONE, 0n, Status.Voided]);
    expect(await f.escrow.isPreApproved(id)).to.equal(true);
    await expect(f.escrow.connect(f.alice).preApprove(terms))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowAlreadyAuthorized")
      .withArgs(id);
  });

  it("a payment authorized by EIP-3009 is not pre-approved, and cannot be pre-approved afterwards", async () => {
    const f = await networkHelpers.loadFixture(fixture);
    const terms = f.makeTerms();
    const id = await f.escrow.getPaymentId(terms);
    const a = await f.signReceive(f.alice, terms, ONE);
    await f.escrow.connect(f.operator).authorizeWithAuthorization(terms, ONE, a.validAfter, a.validBefore, a.signature);
    expect(await f.escrow.isPreApproved(id)).to.equal(false);
    await expect(f.escrow.connect(f.alice).preApprove(terms))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowAlreadyAuthorized")
      .withArgs(id);
    expect(await f.escrow.paymentState(id)).to.deep.equal([ONE, 0n, 0n, Status.Authorized]);
  });
});
