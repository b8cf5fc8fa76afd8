import { expect } from "chai";
import { TypedDataEncoder, type ContractTransactionResponse } from "ethers";
import { network } from "hardhat";

import { forwardRequestTypes } from "../../../lib/signing/forward-request.ts";

import { INITIAL_BALANCE, ONE } from "../../helpers/stablecoin.ts";
import { DAY, MAX_AMOUNT, Status, deployEscrow, termsTuple, type Terms } from "./escrow-fixture.ts";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const { time, loadFixture } = networkHelpers;

const fixture = () => deployEscrow(connection);
type Fixture = Awaited<ReturnType<typeof fixture>>;

/** Names of the escrow's and token's events in a transaction, in log order (Approval/AuthorizationUsed left out). */
async function eventOrder(f: Fixture, tx: ContractTransactionResponse): Promise<string[]> {
  const receipt = await tx.wait();
  const names: string[] = [];
  for (const log of receipt!.logs) {
    const parsed = f.escrow.interface.parseLog(log) ?? f.token.interface.parseLog(log);
    if (parsed && parsed.name !== "Approval" && parsed.name !== "AuthorizationUsed") names.push(parsed.name);
  }
  return names;
}

async function authorized(amount = 60n * ONE, overrides: Partial<Terms> = {}) {
  const f = await loadFixture(fixture);
  const terms = f.makeTerms(overrides);
  await f.token.connect(f.alice).approve(f.escrowAddress, amount);
  await f.escrow.connect(f.alice).preApprove(terms);
  await f.escrow.connect(f.operator).authorize(terms, amount);
  const paymentId = await f.escrow.getPaymentId(terms);
  return { ...f, terms, paymentId, amount };
}

async function captured(amount = 60n * ONE, captureAmount = 40n * ONE) {
  const f = await authorized(amount);
  await f.escrow.connect(f.operator).capture(f.terms, captureAmount, 0);
  return { ...f, captureAmount };
}

describe("PaymentEscrow.getPaymentId", () => {
  it("is the EIP-712 hash of the terms under the escrow's domain (name PaymentEscrow, version 1)", async () => {
    const f = await loadFixture(fixture);
    const terms = f.makeTerms();
    const { chainId } = await ethers.provider.getNetwork();
    const types = {
      PaymentTerms: [
        { name: "operator", type: "address" },
        { name: "payer", type: "address" },
        { name: "merchant", type: "address" },
        { name: "token", type: "address" },
        { name: "maxAmount", type: "uint256" },
        { name: "authorizationExpiry", type: "uint48" },
        { name: "refundExpiry", type: "uint48" },
        { name: "minFeeBps", type: "uint16" },
        { name: "maxFeeBps", type: "uint16" },
        { name: "feeReceiver", type: "address" },
        { name: "salt", type: "uint256" },
      ],
    };
    const domain = { name: "PaymentEscrow", version: "1", chainId, verifyingContract: f.escrowAddress };
    expect(await f.escrow.getPaymentId(terms)).to.equal(TypedDataEncoder.hash(domain, types, terms));
    expect(await f.escrow.getPaymentId({ ...terms, salt: terms.salt + 1n })).to.not.equal(
      await f.escrow.getPaymentId(terms),
    );
  });
});

describe("PaymentEscrow.authorize", () => {
  it("pulls the amount into escrow by allowance for pre-approved terms and emits PaymentAuthorized before the Transfer", async () => {
    const f = await loadFixture(fixture);
    const terms = f.makeTerms();
    const id = await f.escrow.getPaymentId(terms);
    await f.token.connect(f.alice).approve(f.escrowAddress, 30n * ONE);
    await f.escrow.connect(f.alice).preApprove(terms);
    const tx = await f.escrow.connect(f.operator).authorize(terms, 30n * ONE);
    await expect(tx)
      .to.emit(f.escrow, "PaymentAuthorized")
      .withArgs(
        id,
        f.alice.address,
        f.merchant.address,
        f.operator.address,
        f.tokenAddress,
        30n * ONE,
        termsTuple(terms),
      );
    await expect(tx).to.changeTokenBalances(ethers, f.token, [f.alice, f.escrow], [-30n * ONE, 30n * ONE]);
    expect(await eventOrder(f, tx)).to.deep.equal(["PaymentAuthorized", "Transfer"]);
    expect(await f.escrow.paymentState(id)).to.deep.equal([30n * ONE, 0n, 0n, Status.Authorized]);
  });

  it("accepts exactly maxAmount", async () => {
    const f = await authorized(MAX_AMOUNT);
    expect((await f.escrow.paymentState(f.paymentId)).held).to.equal(MAX_AMOUNT);
  });

  it("reverts with PaymentEscrowInvalidSender when the caller is not the operator", async () => {
    const f = await loadFixture(fixture);
    await expect(f.escrow.connect(f.stranger).authorize(f.makeTerms(), ONE))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowInvalidSender")
      .withArgs(f.stranger.address, f.operator.address);
  });

  it("reverts with PaymentEscrowInvalidExpiries when the refund expiry precedes the authorization expiry", async () => {
    const f = await loadFixture(fixture);
    const terms = f.makeTerms();
    const bad = { ...terms, refundExpiry: terms.authorizationExpiry - 1n };
    await expect(f.escrow.connect(f.operator).authorize(bad, ONE))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowInvalidExpiries")
      .withArgs(bad.authorizationExpiry, bad.refundExpiry);
  });

  it("reverts with PaymentEscrowInvalidFeeBounds when minFeeBps > maxFeeBps or maxFeeBps > 10000", async () => {
    const f = await loadFixture(fixture);
    await expect(f.escrow.connect(f.operator).authorize(f.makeTerms({ minFeeBps: 6n, maxFeeBps: 5n }), ONE))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowInvalidFeeBounds")
      .withArgs(6n, 5n);
    await expect(f.escrow.connect(f.operator).authorize(f.makeTerms({ maxFeeBps: 10_001n }), ONE))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowInvalidFeeBounds")
      .withArgs(0n, 10_001n);
  });

  it("reverts with PaymentEscrowZeroFeeReceiver when a fee is allowed but no receiver named", async () => {
    const f = await loadFixture(fixture);
    const terms = f.makeTerms({ feeReceiver: ethers.ZeroAddress });
    await expect(f.escrow.connect(f.operator).authorize(terms, ONE))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowZeroFeeReceiver")
      .withArgs(await f.escrow.getPaymentId(terms));
  });

  it("allows no fee receiver when maxFeeBps is 0", async () => {
    const f = await authorized(ONE, { maxFeeBps: 0n, feeReceiver: ethers.ZeroAddress });
    await expect(f.escrow.connect(f.operator).capture(f.terms, ONE, 0)).to.changeTokenBalance(
      ethers,
      f.token,
      f.merchant,
      ONE,
    );
  });

  it("reverts with PaymentEscrowAuthorizationExpired at the authorization expiry", async () => {
    const f = await loadFixture(fixture);
    const terms = f.makeTerms();
    await f.token.connect(f.alice).approve(f.escrowAddress, ONE);
    await time.setNextBlockTimestamp(terms.authorizationExpiry);
    await expect(f.escrow.connect(f.operator).authorize(terms, ONE))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowAuthorizationExpired")
      .withArgs(await f.escrow.getPaymentId(terms), terms.authorizationExpiry);
  });

  it("reverts with PaymentEscrowZeroAmount for 0 and PaymentEscrowAmountExceedsMax above maxAmount", async () => {
    const f = await loadFixture(fixture);
    const terms = f.makeTerms();
    const id = await f.escrow.getPaymentId(terms);
    await expect(f.escrow.connect(f.operator).authorize(terms, 0))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowZeroAmount")
      .withArgs(id);
    await expect(f.escrow.connect(f.operator).authorize(terms, MAX_AMOUNT + 1n))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowAmountExceedsMax")
      .withArgs(id, MAX_AMOUNT + 1n, MAX_AMOUNT);
  });

  it("reverts with PaymentEscrowAlreadyAuthorized the second time, even after the payment ended", async () => {
    const f = await authorized(ONE);
    await f.token.connect(f.alice).approve(f.escrowAddress, ONE);
    await expect(f.escrow.connect(f.operator).authorize(f.terms, ONE))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowAlreadyAuthorized")
      .withArgs(f.paymentId);
    await f.escrow.connect(f.operator).void(f.terms);
    await expect(f.escrow.connect(f.operator).authorize(f.terms, ONE))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowAlreadyAuthorized")
      .withArgs(f.paymentId);
  });

  it("reverts with the token's ERC20InsufficientAllowance for pre-approved terms without an allowance", async () => {
    const f = await loadFixture(fixture);
    const terms = f.makeTerms();
    await f.escrow.connect(f.alice).preApprove(terms);
    await expect(f.escrow.connect(f.operator).authorize(terms, ONE))
      .to.be.revertedWithCustomError(f.token, "ERC20InsufficientAllowance")
      .withArgs(f.escrowAddress, 0n, ONE);
  });

  it("reverts with PaymentEscrowNotPreApproved when the payer approved the escrow but never these terms", async () => {
    const f = await loadFixture(fixture);
    const terms = f.makeTerms();
    await f.token.connect(f.alice).approve(f.escrowAddress, ONE);
    await f.escrow.connect(f.alice).preApprove(f.makeTerms());
    await expect(f.escrow.connect(f.operator).authorize(terms, ONE))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowNotPreApproved")
      .withArgs(await f.escrow.getPaymentId(terms));
  });

  it("reverts with PaymentEscrowExpiryTooFar beyond MAX_AUTHORIZATION_PERIOD or MAX_REFUND_PERIOD", async () => {
    const f = await loadFixture(fixture);
    expect(await f.escrow.MAX_AUTHORIZATION_PERIOD()).to.equal(365n * DAY);
    expect(await f.escrow.MAX_REFUND_PERIOD()).to.equal(730n * DAY);
    const now = BigInt(await time.latest());
    const next = now + 1n;
    await time.setNextBlockTimestamp(next);
    const farAuthorization = f.makeTerms({
      authorizationExpiry: next + 365n * DAY + 1n,
      refundExpiry: next + 365n * DAY + 1n,
    });
    await expect(f.escrow.connect(f.operator).authorize(farAuthorization, ONE))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowExpiryTooFar")
      .withArgs(
        await f.escrow.getPaymentId(farAuthorization),
        farAuthorization.authorizationExpiry,
        farAuthorization.refundExpiry,
      );
    const expiry = now + DAY;
    const farRefund = f.makeTerms({ authorizationExpiry: expiry, refundExpiry: expiry + 730n * DAY + 1n });
    await expect(f.escrow.connect(f.operator).authorize(farRefund, ONE))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowExpiryTooFar")
      .withArgs(await f.escrow.getPaymentId(farRefund), farRefund.authorizationExpiry, farRefund.refundExpiry);
    // Exactly at both bounds is accepted.
    const latest = BigInt(await time.latest()) + 1n;
    await time.setNextBlockTimestamp(latest);
    const atBounds = f.makeTerms({
      authorizationExpiry: latest + 365n * DAY,
      refundExpiry: latest + 365n * DAY + 730n * DAY,
    });
    const a = await f.signReceive(f.alice, atBounds, ONE);
    await expect(
      f.escrow.connect(f.operator).authorizeWithAuthorization(atBounds, ONE, a.validAfter, a.validBefore, a.signature),
    ).to.emit(f.escrow, "PaymentAuthorized");
  });
});

describe("PaymentEscrow.preApprove", () => {
  it("records the payer's consent to these terms only, emitting PaymentPreApproved", async () => {
    const f = await loadFixture(fixture);
    const terms = f.makeTerms();
    const id = await f.escrow.getPaymentId(terms);
    await expect(f.escrow.connect(f.alice).preApprove(terms))
      .to.emit(f.escrow, "PaymentPreApproved")
      .withArgs(id, f.alice.address);
    expect(await f.escrow.isPreApproved(id)).to.equal(true);
    expect(await f.escrow.isPreApproved(await f.escrow.getPaymentId({ ...terms, salt: terms.salt + 1n }))).to.equal(
      false,
    );
  });

  it("reverts with PaymentEscrowInvalidSender for anyone but the payer", async () => {
    const f = await loadFixture(fixture);
    await expect(f.escrow.connect(f.operator).preApprove(f.makeTerms()))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowInvalidSender")
      .withArgs(f.operator.address, f.alice.address);
  });

  it("reverts with PaymentEscrowAlreadyAuthorized once the payment was authorized", async () => {
    const f = await authorized(ONE);
    await expect(f.escrow.connect(f.alice).preApprove(f.terms))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowAlreadyAuthorized")
      .withArgs(f.paymentId);
  });

  it("accepts the payer's ERC-2771 forward request (a gasless payer)", async () => {
    const f = await loadFixture(fixture);
    const terms = f.makeTerms();
    const data = f.escrow.interface.encodeFunctionData("preApprove", [terms]);
    const { chainId } = await ethers.provider.getNetwork();
    const deadline = BigInt(await time.latest()) + 3600n;
    const request = {
      from: f.alice.address,
      to: f.escrowAddress,
      value: 0n,
      gas: 100_000n,
      nonce: await f.forwarder.nonces(f.alice.address),
      deadline,
      data,
    };
    const signature = await f.alice.signTypedData(
      { name: "StablerailForwarder", version: "1", chainId, verifyingContract: await f.forwarder.getAddress() },
      { ForwardRequest: [...forwardRequestTypes.ForwardRequest] },
      request,
    );
    await f.forwarder.connect(f.stranger).execute({ ...request, signature });
    expect(await f.escrow.isPreApproved(await f.escrow.getPaymentId(terms))).to.equal(true);
  });
});

describe("PaymentEscrow.authorizeWithAuthorization", () => {
  it("pulls by the payer's ReceiveWithAuthorization (nonce = payment id) with no approval", async () => {
    const f = await loadFixture(fixture);
    const terms = f.makeTerms();
    const id = await f.escrow.getPaymentId(terms);
    const a = await f.signReceive(f.alice, terms, 25n * ONE);
    const tx = await f.escrow
      .connect(f.operator)
      .authorizeWithAuthorization(terms, 25n * ONE, a.validAfter, a.validBefore, a.signature);
    await expect(tx)
      .to.emit(f.escrow, "PaymentAuthorized")
      .withArgs(
        id,
        f.alice.address,
        f.merchant.address,
        f.operator.address,
        f.tokenAddress,
        25n * ONE,
        termsTuple(terms),
      );
    await expect(tx).to.changeTokenBalances(ethers, f.token, [f.alice, f.escrow], [-25n * ONE, 25n * ONE]);
    expect(await f.token.authorizationState(f.alice.address, id)).to.equal(true);
    expect(await eventOrder(f, tx)).to.deep.equal(["PaymentAuthorized", "Transfer"]);
  });

  it("reverts with StablecoinInvalidSignature when someone other than the payer signed", async () => {
    const f = await loadFixture(fixture);
    const terms = f.makeTerms();
    const a = await f.signReceive(f.bob, terms, ONE);
    await expect(
      f.escrow.connect(f.operator).authorizeWithAuthorization(terms, ONE, a.validAfter, a.validBefore, a.signature),
    ).to.be.revertedWithCustomError(f.token, "StablecoinInvalidSignature");
  });

  it("reverts with StablecoinAuthorizationExpired / NotYetValid outside the signed window", async () => {
    const f = await loadFixture(fixture);
    const terms = f.makeTerms();
    const now = BigInt(await time.latest());
    const expired = await f.signReceive(f.alice, terms, ONE, { validBefore: now });
    await expect(
      f.escrow
        .connect(f.operator)
        .authorizeWithAuthorization(terms, ONE, expired.validAfter, expired.validBefore, expired.signature),
    )
      .to.be.revertedWithCustomError(f.token, "StablecoinAuthorizationExpired")
      .withArgs(now);
    const early = await f.signReceive(f.alice, terms, ONE, { validAfter: now + DAY / 2n });
    await expect(
      f.escrow
        .connect(f.operator)
        .authorizeWithAuthorization(terms, ONE, early.validAfter, early.validBefore, early.signature),
    )
      .to.be.revertedWithCustomError(f.token, "StablecoinAuthorizationNotYetValid")
      .withArgs(now + DAY / 2n);
  });

  it("reverts with StablecoinInvalidSignature when the signed nonce is not the payment id", async () => {
    const f = await loadFixture(fixture);
    const terms = f.makeTerms();
    const a = await f.signReceive(f.alice, terms, ONE, { nonce: ethers.ZeroHash });
    await expect(
      f.escrow.connect(f.operator).authorizeWithAuthorization(terms, ONE, a.validAfter, a.validBefore, a.signature),
    ).to.be.revertedWithCustomError(f.token, "StablecoinInvalidSignature");
  });

  it("reverts with StablecoinInvalidSignature when the terms were tampered with after signing", async () => {
    const f = await loadFixture(fixture);
    const terms = f.makeTerms();
    const a = await f.signReceive(f.alice, terms, ONE);
    const tampered = { ...terms, merchant: f.stranger.address };
    await expect(
      f.escrow.connect(f.operator).authorizeWithAuthorization(tampered, ONE, a.validAfter, a.validBefore, a.signature),
    ).to.be.revertedWithCustomError(f.token, "StablecoinInvalidSignature");
  });

  it("accepts an ERC-1271 wallet payer", async () => {
    const f = await loadFixture(fixture);
    const wallet = await ethers.deployContract("ERC1271WalletMock", [f.alice.address]);
    const walletAddress = await wallet.getAddress();
    await f.token.connect(f.minter).mint(walletAddress, 10n * ONE);
    const terms = f.makeTerms({ payer: walletAddress });
    const a = await f.signReceive(f.alice, terms, 10n * ONE);
    await expect(
      f.escrow
        .connect(f.operator)
        .authorizeWithAuthorization(terms, 10n * ONE, a.validAfter, a.validBefore, a.signature),
    ).to.changeTokenBalances(ethers, f.token, [wallet, f.escrow], [-10n * ONE, 10n * ONE]);
  });
});

describe("PaymentEscrow.capture", () => {
  it("pays the merchant amount − fee then the fee receiver the fee, emitting PaymentCaptured first", async () => {
    const f = await authorized(60n * ONE);
    const tx = await f.escrow.connect(f.operator).capture(f.terms, 40n * ONE, 250);
    const fee = (40n * ONE * 250n) / 10_000n;
    await expect(tx)
      .to.emit(f.escrow, "PaymentCaptured")
      .withArgs(f.paymentId, f.merchant.address, f.feeReceiver.address, 40n * ONE, fee);
    await expect(tx).to.changeTokenBalances(
      ethers,
      f.token,
      [f.escrow, f.merchant, f.feeReceiver],
      [-40n * ONE, 40n * ONE - fee, fee],
    );
    expect(await eventOrder(f, tx)).to.deep.equal(["PaymentCaptured", "Transfer", "Transfer"]);
    expect(await f.escrow.paymentState(f.paymentId)).to.deep.equal([20n * ONE, 40n * ONE, 0n, Status.Captured]);
  });

  it("captures in several parts up to everything held, then refuses more", async () => {
    const f = await authorized(60n * ONE);
    await f.escrow.connect(f.operator).capture(f.terms, 10n * ONE, 0);
    await f.escrow.connect(f.operator).capture(f.terms, 50n * ONE, 500);
    expect(await f.escrow.paymentState(f.paymentId)).to.deep.equal([0n, 60n * ONE, 0n, Status.Captured]);
    await expect(f.escrow.connect(f.operator).capture(f.terms, 1n, 0))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowInsufficientHeld")
      .withArgs(f.paymentId, 0n, 1n);
  });

  it("reverts with PaymentEscrowInsufficientHeld for more than held or a payment never authorized", async () => {
    const f = await authorized(60n * ONE);
    await expect(f.escrow.connect(f.operator).capture(f.terms, 60n * ONE + 1n, 0))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowInsufficientHeld")
      .withArgs(f.paymentId, 60n * ONE, 60n * ONE + 1n);
    const other = f.makeTerms();
    await expect(f.escrow.connect(f.operator).capture(other, 1n, 0))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowInsufficientHeld")
      .withArgs(await f.escrow.getPaymentId(other), 0n, 1n);
  });

  it("reverts with PaymentEscrowInvalidSender when the caller is not the operator", async () => {
    const f = await authorized();
    await expect(f.escrow.connect(f.merchant).capture(f.terms, ONE, 0))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowInvalidSender")
      .withArgs(f.merchant.address, f.operator.address);
  });

  it("reverts with PaymentEscrowAuthorizationExpired at the authorization expiry", async () => {
    const f = await authorized();
    await time.increaseTo(f.terms.authorizationExpiry);
    await expect(f.escrow.connect(f.operator).capture(f.terms, ONE, 0))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowAuthorizationExpired")
      .withArgs(f.paymentId, f.terms.authorizationExpiry);
  });

  it("reverts with PaymentEscrowZeroAmount for 0", async () => {
    const f = await authorized();
    await expect(f.escrow.connect(f.operator).capture(f.terms, 0, 0))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowZeroAmount")
      .withArgs(f.paymentId);
  });

  it("reverts with PaymentEscrowFeeOutOfRange below minFeeBps or above maxFeeBps", async () => {
    const f = await authorized(ONE, { minFeeBps: 100n, maxFeeBps: 200n });
    await expect(f.escrow.connect(f.operator).capture(f.terms, ONE, 99))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowFeeOutOfRange")
      .withArgs(f.paymentId, 99n, 100n, 200n);
    await expect(f.escrow.connect(f.operator).capture(f.terms, ONE, 201))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowFeeOutOfRange")
      .withArgs(f.paymentId, 201n, 100n, 200n);
  });
});

describe("PaymentEscrow.charge, chargeWithAuthorization", () => {
  it("charge authorizes and captures in one call: PaymentAuthorized, Transfer in, PaymentCaptured, Transfers out", async () => {
    const f = await loadFixture(fixture);
    const terms = f.makeTerms();
    const id = await f.escrow.getPaymentId(terms);
    await f.token.connect(f.alice).approve(f.escrowAddress, 20n * ONE);
    await f.escrow.connect(f.alice).preApprove(terms);
    const tx = await f.escrow.connect(f.operator).charge(terms, 20n * ONE, 100);
    await expect(tx).to.emit(f.escrow, "PaymentAuthorized");
    await expect(tx)
      .to.emit(f.escrow, "PaymentCaptured")
      .withArgs(id, f.merchant.address, f.feeReceiver.address, 20n * ONE, ONE / 5n);
    await expect(tx).to.changeTokenBalances(
      ethers,
      f.token,
      [f.alice, f.escrow, f.merchant, f.feeReceiver],
      [-20n * ONE, 0n, 20n * ONE - ONE / 5n, ONE / 5n],
    );
    expect(await eventOrder(f, tx)).to.deep.equal([
      "PaymentAuthorized",
      "Transfer",
      "PaymentCaptured",
      "Transfer",
      "Transfer",
    ]);
    expect(await f.escrow.paymentState(id)).to.deep.equal([0n, 20n * ONE, 0n, Status.Captured]);
  });

  it("charge reverts with PaymentEscrowNotPreApproved on an allowance alone", async () => {
    const f = await loadFixture(fixture);
    const terms = f.makeTerms();
    await f.token.connect(f.alice).approve(f.escrowAddress, 5n * ONE);
    await expect(f.escrow.connect(f.operator).charge(terms, 5n * ONE, 0))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowNotPreApproved")
      .withArgs(await f.escrow.getPaymentId(terms));
  });

  it("chargeWithAuthorization pulls by ReceiveWithAuthorization", async () => {
    const f = await loadFixture(fixture);
    const terms = f.makeTerms();
    const a = await f.signReceive(f.alice, terms, 5n * ONE);
    await expect(
      f.escrow
        .connect(f.operator)
        .chargeWithAuthorization(terms, 5n * ONE, 0, a.validAfter, a.validBefore, a.signature),
    ).to.changeTokenBalances(ethers, f.token, [f.alice, f.merchant], [-5n * ONE, 5n * ONE]);
  });

  it("charge reverts with PaymentEscrowFeeOutOfRange and moves nothing", async () => {
    const f = await loadFixture(fixture);
    const terms = f.makeTerms();
    await f.token.connect(f.alice).approve(f.escrowAddress, ONE);
    await f.escrow.connect(f.alice).preApprove(terms);
    await expect(f.escrow.connect(f.operator).charge(terms, ONE, 501))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowFeeOutOfRange")
      .withArgs(await f.escrow.getPaymentId(terms), 501n, 0n, 500n);
  });
});

describe("PaymentEscrow.void", () => {
  it("returns what is held to the payer, emitting PaymentVoided first, and ends the payment", async () => {
    const f = await captured(60n * ONE, 40n * ONE);
    const tx = await f.escrow.connect(f.operator).void(f.terms);
    await expect(tx)
      .to.emit(f.escrow, "PaymentVoided")
      .withArgs(f.paymentId, f.alice.address, 20n * ONE);
    await expect(tx).to.changeTokenBalances(ethers, f.token, [f.escrow, f.alice], [-20n * ONE, 20n * ONE]);
    expect(await eventOrder(f, tx)).to.deep.equal(["PaymentVoided", "Transfer"]);
    expect(await f.escrow.paymentState(f.paymentId)).to.deep.equal([0n, 40n * ONE, 0n, Status.Voided]);
    await expect(f.escrow.connect(f.operator).capture(f.terms, 1n, 0))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowInsufficientHeld")
      .withArgs(f.paymentId, 0n, 1n);
  });

  it("reverts with PaymentEscrowInsufficientHeld when nothing is held", async () => {
    const f = await authorized();
    await f.escrow.connect(f.operator).void(f.terms);
    await expect(f.escrow.connect(f.operator).void(f.terms))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowInsufficientHeld")
      .withArgs(f.paymentId, 0n, 1n);
  });

  it("reverts with PaymentEscrowInvalidSender when the caller is not the operator", async () => {
    const f = await authorized();
    await expect(f.escrow.connect(f.alice).void(f.terms))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowInvalidSender")
      .withArgs(f.alice.address, f.operator.address);
  });
});

describe("PaymentEscrow.reclaim", () => {
  it("lets the payer take back what is held at the authorization expiry", async () => {
    const f = await authorized(30n * ONE);
    await time.setNextBlockTimestamp(f.terms.authorizationExpiry);
    const tx = await f.escrow.connect(f.alice).reclaim(f.terms);
    await expect(tx)
      .to.emit(f.escrow, "PaymentReclaimed")
      .withArgs(f.paymentId, f.alice.address, 30n * ONE);
    await expect(tx).to.changeTokenBalances(ethers, f.token, [f.escrow, f.alice], [-30n * ONE, 30n * ONE]);
    expect(await eventOrder(f, tx)).to.deep.equal(["PaymentReclaimed", "Transfer"]);
    expect((await f.escrow.paymentState(f.paymentId)).status).to.equal(Status.Reclaimed);
  });

  it("reverts with PaymentEscrowAuthorizationNotExpired before the expiry", async () => {
    const f = await authorized();
    await expect(f.escrow.connect(f.alice).reclaim(f.terms))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowAuthorizationNotExpired")
      .withArgs(f.paymentId, f.terms.authorizationExpiry);
  });

  it("reverts with PaymentEscrowInvalidSender when the caller is not the payer", async () => {
    const f = await authorized();
    await time.increaseTo(f.terms.authorizationExpiry);
    await expect(f.escrow.connect(f.operator).reclaim(f.terms))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowInvalidSender")
      .withArgs(f.operator.address, f.alice.address);
  });

  it("reverts with PaymentEscrowInsufficientHeld after a void", async () => {
    const f = await authorized();
    await f.escrow.connect(f.operator).void(f.terms);
    await time.increaseTo(f.terms.authorizationExpiry);
    await expect(f.escrow.connect(f.alice).reclaim(f.terms))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowInsufficientHeld")
      .withArgs(f.paymentId, 0n, 1n);
  });
});

describe("PaymentEscrow.refund", () => {
  it("pays captured funds back from the merchant to the payer, emitting PaymentRefunded first", async () => {
    const f = await captured(60n * ONE, 40n * ONE);
    await f.token.connect(f.merchant).approve(f.escrowAddress, 15n * ONE);
    const tx = await f.escrow.connect(f.merchant).refund(f.terms, 15n * ONE);
    await expect(tx)
      .to.emit(f.escrow, "PaymentRefunded")
      .withArgs(f.paymentId, f.alice.address, f.merchant.address, 15n * ONE);
    await expect(tx).to.changeTokenBalances(ethers, f.token, [f.merchant, f.alice], [-15n * ONE, 15n * ONE]);
    expect(await eventOrder(f, tx)).to.deep.equal(["PaymentRefunded", "Transfer"]);
    expect(await f.escrow.paymentState(f.paymentId)).to.deep.equal([20n * ONE, 40n * ONE, 15n * ONE, Status.Captured]);
  });

  it("lets the operator refund too, after a void, until everything captured is refunded", async () => {
    const f = await captured(60n * ONE, 40n * ONE);
    await f.escrow.connect(f.operator).void(f.terms);
    await f.token.connect(f.minter).mint(f.operator.address, 40n * ONE);
    await f.token.connect(f.operator).approve(f.escrowAddress, 40n * ONE);
    await f.escrow.connect(f.operator).refund(f.terms, 30n * ONE);
    await f.escrow.connect(f.operator).refund(f.terms, 10n * ONE);
    await expect(f.escrow.connect(f.operator).refund(f.terms, 1n))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowRefundExceedsCaptured")
      .withArgs(f.paymentId, 0n, 1n);
  });

  it("reverts with PaymentEscrowRefundExceedsCaptured above captured − refunded", async () => {
    const f = await captured(60n * ONE, 40n * ONE);
    await expect(f.escrow.connect(f.merchant).refund(f.terms, 40n * ONE + 1n))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowRefundExceedsCaptured")
      .withArgs(f.paymentId, 40n * ONE, 40n * ONE + 1n);
  });

  it("reverts with PaymentEscrowRefundExpired at the refund expiry", async () => {
    const f = await captured();
    await time.increaseTo(f.terms.refundExpiry);
    await expect(f.escrow.connect(f.merchant).refund(f.terms, 1n))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowRefundExpired")
      .withArgs(f.paymentId, f.terms.refundExpiry);
  });

  it("reverts with PaymentEscrowZeroAmount for 0", async () => {
    const f = await captured();
    await expect(f.escrow.connect(f.merchant).refund(f.terms, 0))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowZeroAmount")
      .withArgs(f.paymentId);
  });

  it("reverts with PaymentEscrowInvalidSender for anyone but the operator or merchant", async () => {
    const f = await captured();
    await expect(f.escrow.connect(f.stranger).refund(f.terms, 1n))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowInvalidSender")
      .withArgs(f.stranger.address, f.operator.address);
  });
});

describe("PaymentEscrow.refundWithAuthorization", () => {
  it("pulls the merchant's authorization into escrow and pays the payer, leaving no allowance at any moment", async () => {
    const f = await captured(60n * ONE, 40n * ONE);
    const r = await f.signRefund(f.merchant, f.terms, 15n * ONE);
    const tx = await f.escrow
      .connect(f.stranger)
      .refundWithAuthorization(f.terms, 15n * ONE, r.refunder, r.validAfter, r.validBefore, r.refundSalt, r.signature);
    await expect(tx)
      .to.emit(f.escrow, "PaymentRefunded")
      .withArgs(f.paymentId, f.alice.address, f.merchant.address, 15n * ONE);
    await expect(tx).to.changeTokenBalances(
      ethers,
      f.token,
      [f.merchant, f.escrow, f.alice],
      [-15n * ONE, 0n, 15n * ONE],
    );
    expect(await eventOrder(f, tx)).to.deep.equal(["PaymentRefunded", "Transfer", "Transfer"]);
    expect(await f.token.allowance(f.merchant.address, f.escrowAddress)).to.equal(0n);
    expect(await f.token.authorizationState(f.merchant.address, r.nonce)).to.equal(true);
    expect(await f.escrow.paymentState(f.paymentId)).to.deep.equal([20n * ONE, 40n * ONE, 15n * ONE, Status.Captured]);
  });

  it("derives the nonce as keccak256(abi.encode(paymentId, refundSalt))", async () => {
    const f = await loadFixture(fixture);
    const salt = ethers.hexlify(ethers.randomBytes(32));
    const id = ethers.hexlify(ethers.randomBytes(32));
    expect(await f.escrow.getRefundNonce(id, salt)).to.equal(
      ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(["bytes32", "bytes32"], [id, salt])),
    );
  });

  it("accepts the operator as refunder, and several refunds each with its own salt", async () => {
    const f = await captured(60n * ONE, 40n * ONE);
    await f.token.connect(f.minter).mint(f.operator.address, 40n * ONE);
    for (const signer of [f.operator, f.merchant]) {
      const r = await f.signRefund(signer, f.terms, 10n * ONE);
      await f.escrow.refundWithAuthorization(
        f.terms,
        10n * ONE,
        r.refunder,
        r.validAfter,
        r.validBefore,
        r.refundSalt,
        r.signature,
      );
    }
    expect((await f.escrow.paymentState(f.paymentId)).refunded).to.equal(20n * ONE);
  });

  it("reverts with PaymentEscrowInvalidSender when the refunder is neither operator nor merchant", async () => {
    const f = await captured();
    const r = await f.signRefund(f.stranger, f.terms, ONE);
    await expect(
      f.escrow.refundWithAuthorization(
        f.terms,
        ONE,
        r.refunder,
        r.validAfter,
        r.validBefore,
        r.refundSalt,
        r.signature,
      ),
    )
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowInvalidSender")
      .withArgs(f.stranger.address, f.operator.address);
  });

  it("refuses the signature for another payment, amount or salt, and a second time (StablecoinInvalidSignature / Used)", async () => {
    const f = await captured(60n * ONE, 40n * ONE);
    const r = await f.signRefund(f.merchant, f.terms, 5n * ONE);
    const args = [r.refunder, r.validAfter, r.validBefore] as const;
    const other = f.makeTerms({ salt: f.terms.salt + 1n });
    await expect(
      f.escrow.refundWithAuthorization(other, 5n * ONE, ...args, r.refundSalt, r.signature),
    ).to.be.revertedWithCustomError(f.escrow, "PaymentEscrowRefundExceedsCaptured");
    await expect(
      f.escrow.refundWithAuthorization(f.terms, 4n * ONE, ...args, r.refundSalt, r.signature),
    ).to.be.revertedWithCustomError(f.token, "StablecoinInvalidSignature");
    await expect(
      f.escrow.refundWithAuthorization(f.terms, 5n * ONE, ...args, ethers.ZeroHash, r.signature),
    ).to.be.revertedWithCustomError(f.token, "StablecoinInvalidSignature");
    await f.escrow.refundWithAuthorization(f.terms, 5n * ONE, ...args, r.refundSalt, r.signature);
    await expect(f.escrow.refundWithAuthorization(f.terms, 5n * ONE, ...args, r.refundSalt, r.signature))
      .to.be.revertedWithCustomError(f.token, "StablecoinAuthorizationUsed")
      .withArgs(f.merchant.address, r.nonce);
  });

  it("reverts with PaymentEscrowRefundExpired at the refund expiry and PaymentEscrowRefundExceedsCaptured above it", async () => {
    const f = await captured(60n * ONE, 40n * ONE);
    const tooMuch = await f.signRefund(f.merchant, f.terms, 40n * ONE + 1n);
    await expect(
      f.escrow.refundWithAuthorization(
        f.terms,
        40n * ONE + 1n,
        tooMuch.refunder,
        tooMuch.validAfter,
        tooMuch.validBefore,
        tooMuch.refundSalt,
        tooMuch.signature,
      ),
    )
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowRefundExceedsCaptured")
      .withArgs(f.paymentId, 40n * ONE, 40n * ONE + 1n);
    const r = await f.signRefund(f.merchant, f.terms, ONE);
    await time.increaseTo(f.terms.refundExpiry);
    await expect(
      f.escrow.refundWithAuthorization(
        f.terms,
        ONE,
        r.refunder,
        r.validAfter,
        r.validBefore,
        r.refundSalt,
        r.signature,
      ),
    )
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowRefundExpired")
      .withArgs(f.paymentId, f.terms.refundExpiry);
  });
});

describe("PaymentEscrow fee rounding", () => {
  it("rounds the fee down above the minimum fee", async () => {
    const f = await authorized(ONE, { minFeeBps: 0n, maxFeeBps: 500n });
    // 1,000,000 × 3 bps = 300 exactly; 999 × 3 bps = 0.2997 → 0.
    await expect(f.escrow.connect(f.operator).capture(f.terms, 999n, 3))
      .to.emit(f.escrow, "PaymentCaptured")
      .withArgs(f.paymentId, f.merchant.address, f.feeReceiver.address, 999n, 0n);
  });

  it("never takes less than minFeeBps of a capture, however small (rounded up to a base unit)", async () => {
    const f = await authorized(ONE, { minFeeBps: 100n, maxFeeBps: 100n });
    // 99 units × 1 % = 0.99: rounding down would pay the fee receiver nothing although the terms promise 1 %.
    await expect(f.escrow.connect(f.operator).capture(f.terms, 99n, 100))
      .to.emit(f.escrow, "PaymentCaptured")
      .withArgs(f.paymentId, f.merchant.address, f.feeReceiver.address, 99n, 1n);
    // 250 units × 1 % = 2.5 → 3 (at least 1 % of the capture).
    await expect(f.escrow.connect(f.operator).capture(f.terms, 250n, 100)).to.changeTokenBalances(
      ethers,
      f.token,
      [f.merchant, f.feeReceiver],
      [247n, 3n],
    );
  });

  it("takes feeBps rounded down when that is above the minimum rounded up", async () => {
    const f = await authorized(ONE, { minFeeBps: 10n, maxFeeBps: 500n });
    // 12,345 × 5 % = 617.25 → 617; the minimum 12,345 × 0.1 % = 12.345 → 13.
    await expect(f.escrow.connect(f.operator).capture(f.terms, 12_345n, 500))
      .to.emit(f.escrow, "PaymentCaptured")
      .withArgs(f.paymentId, f.merchant.address, f.feeReceiver.address, 12_345n, 617n);
  });
});

describe("PaymentEscrow and frozen parties (the token's rule: nothing moves to or from a frozen account)", () => {
  it("a frozen merchant blocks capture; the operator voids and the payer is made whole", async () => {
    const f = await authorized(10n * ONE);
    await f.token.connect(f.freezer).freeze(f.merchant.address);
    await expect(f.escrow.connect(f.operator).capture(f.terms, ONE, 0))
      .to.be.revertedWithCustomError(f.token, "StablecoinAccountFrozen")
      .withArgs(f.merchant.address);
    await expect(f.escrow.connect(f.operator).void(f.terms)).to.changeTokenBalance(ethers, f.token, f.alice, 10n * ONE);
  });

  it("a frozen fee receiver blocks captures that owe it a fee, not those that owe none", async () => {
    const f = await authorized(10n * ONE, { minFeeBps: 0n, maxFeeBps: 500n });
    await f.token.connect(f.freezer).freeze(f.feeReceiver.address);
    await expect(f.escrow.connect(f.operator).capture(f.terms, ONE, 100))
      .to.be.revertedWithCustomError(f.token, "StablecoinAccountFrozen")
      .withArgs(f.feeReceiver.address);
    await expect(f.escrow.connect(f.operator).capture(f.terms, ONE, 0)).to.changeTokenBalance(
      ethers,
      f.token,
      f.merchant,
      ONE,
    );
  });

  it("a frozen payer's held funds can be captured to the merchant but not returned until unfrozen", async () => {
    const f = await authorized(10n * ONE);
    await f.token.connect(f.freezer).freeze(f.alice.address);
    await expect(f.escrow.connect(f.operator).void(f.terms))
      .to.be.revertedWithCustomError(f.token, "StablecoinAccountFrozen")
      .withArgs(f.alice.address);
    await time.increaseTo(f.terms.authorizationExpiry);
    await expect(f.escrow.connect(f.alice).reclaim(f.terms))
      .to.be.revertedWithCustomError(f.token, "StablecoinAccountFrozen")
      .withArgs(f.alice.address);
    await f.token.connect(f.freezer).unfreeze(f.alice.address);
    await expect(f.escrow.connect(f.alice).reclaim(f.terms)).to.changeTokenBalance(ethers, f.token, f.alice, 10n * ONE);
  });

  it("captures a frozen payer's held funds (consent was given before the freeze; escrowed funds are not its balance)", async () => {
    const f = await authorized(10n * ONE);
    await f.token.connect(f.freezer).freeze(f.alice.address);
    await expect(f.escrow.connect(f.operator).capture(f.terms, 4n * ONE, 0)).to.changeTokenBalance(
      ethers,
      f.token,
      f.merchant,
      4n * ONE,
    );
  });
});

describe("PaymentEscrow.paymentState", () => {
  it("is all zero (status None) for an unknown payment", async () => {
    const f = await loadFixture(fixture);
    expect(await f.escrow.paymentState(ethers.ZeroHash)).to.deep.equal([0n, 0n, 0n, Status.None]);
    expect(await f.token.balanceOf(f.alice.address)).to.equal(INITIAL_BALANCE);
  });
});
