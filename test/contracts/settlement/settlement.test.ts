import { expect } from "chai";
import { id } from "ethers";
import { network } from "hardhat";

import { INITIAL_BALANCE, ONE } from "../../helpers/stablecoin.ts";
import {
  deploySettlement,
  errorData,
  SETTLEMENT_ADMIN_DELAY,
  settleGasLimit,
  signedItem,
  TREASURY,
  type SettlementFixture,
} from "./settlement-fixture.ts";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const { loadFixture, time } = networkHelpers;

const BATCH = id("batch-1");

const fixture = (): Promise<SettlementFixture> => deploySettlement(connection);

describe("Settlement constructor and roles", () => {
  it("gives the admin DEFAULT_ADMIN_ROLE and trusts the forwarder", async () => {
    const f = await loadFixture(fixture);
    expect(await f.settlement.hasRole(await f.settlement.DEFAULT_ADMIN_ROLE(), f.admin.address)).to.equal(true);
    expect(await f.settlement.defaultAdmin()).to.equal(f.admin.address);
    expect(await f.settlement.defaultAdminDelay()).to.equal(SETTLEMENT_ADMIN_DELAY);
    expect(await f.settlement.PAYOUT_ROLE()).to.equal(id("PAYOUT_ROLE"));
    expect(await f.settlement.isTrustedForwarder(await f.forwarder.getAddress())).to.equal(true);
  });

  it("refuses a one-step grant of DEFAULT_ADMIN_ROLE with AccessControlEnforcedDefaultAdminRules", async () => {
    const f = await loadFixture(fixture);
    const adminRole = await f.settlement.DEFAULT_ADMIN_ROLE();
    await expect(f.settlement.connect(f.admin).grantRole(adminRole, f.stranger.address)).to.be.revertedWithCustomError(
      f.settlement,
      "AccessControlEnforcedDefaultAdminRules",
    );
    expect(await f.settlement.hasRole(adminRole, f.stranger.address)).to.equal(false);
  });

  it("hands the default admin over in two steps, the new admin accepting only after the delay", async () => {
    const f = await loadFixture(fixture);
    const adminRole = await f.settlement.DEFAULT_ADMIN_ROLE();
    await f.settlement.connect(f.admin).beginDefaultAdminTransfer(f.stranger.address);
    const [pending, schedule] = await f.settlement.pendingDefaultAdmin();
    expect(pending).to.equal(f.stranger.address);
    expect(schedule).to.equal(BigInt(await time.latest()) + SETTLEMENT_ADMIN_DELAY);
    await expect(f.settlement.connect(f.stranger).acceptDefaultAdminTransfer())
      .to.be.revertedWithCustomError(f.settlement, "AccessControlEnforcedDefaultAdminDelay")
      .withArgs(schedule);

    await time.increaseTo(schedule + 1n);
    await f.settlement.connect(f.stranger).acceptDefaultAdminTransfer();
    expect(await f.settlement.defaultAdmin()).to.equal(f.stranger.address);
    expect(await f.settlement.hasRole(adminRole, f.admin.address)).to.equal(false);
    // The new admin, not the old one, now decides who pays out.
    const payoutRole = await f.settlement.PAYOUT_ROLE();
    await expect(f.settlement.connect(f.admin).grantRole(payoutRole, f.merchantA.address))
      .to.be.revertedWithCustomError(f.settlement, "AccessControlUnauthorizedAccount")
      .withArgs(f.admin.address, adminRole);
    await f.settlement.connect(f.stranger).grantRole(payoutRole, f.merchantA.address);
    expect(await f.settlement.hasRole(payoutRole, f.merchantA.address)).to.equal(true);
  });
});

describe("Settlement.payout", () => {
  it("pays each item from the treasury, emitting PayoutItemPaid before each Transfer then PayoutBatchExecuted", async () => {
    const f = await loadFixture(fixture);
    const items = [
      { merchant: f.merchantA.address, amount: 10n * ONE, payoutReference: id("ref-a") },
      { merchant: f.merchantB.address, amount: 5n * ONE, payoutReference: id("ref-b") },
    ];
    const tx = await f.settlement.connect(f.payoutOperator).payout(BATCH, f.tokenAddress, items);
    await expect(tx)
      .to.emit(f.settlement, "PayoutItemPaid")
      .withArgs(BATCH, 0n, f.merchantA.address, 10n * ONE, id("ref-a"));
    await expect(tx)
      .to.emit(f.settlement, "PayoutItemPaid")
      .withArgs(BATCH, 1n, f.merchantB.address, 5n * ONE, id("ref-b"));
    await expect(tx)
      .to.emit(f.settlement, "PayoutBatchExecuted")
      .withArgs(BATCH, f.tokenAddress, 2n, 15n * ONE);
    await expect(tx).to.changeTokenBalances(
      ethers,
      f.token,
      [f.settlement, f.merchantA, f.merchantB],
      [-15n * ONE, 10n * ONE, 5n * ONE],
    );
    const receipt = await tx.wait();
    const order = receipt!.logs.map(
      (log) => (f.settlement.interface.parseLog(log) ?? f.token.interface.parseLog(log))!.name,
    );
    expect(order).to.deep.equal(["PayoutItemPaid", "Transfer", "PayoutItemPaid", "Transfer", "PayoutBatchExecuted"]);
    expect(await f.settlement.isBatchExecuted(BATCH)).to.equal(true);
  });

  it("reverts with SettlementBatchAlreadyExecuted when a batch id is replayed", async () => {
    const f = await loadFixture(fixture);
    const items = [{ merchant: f.merchantA.address, amount: ONE, payoutReference: id("r") }];
    await f.settlement.connect(f.payoutOperator).payout(BATCH, f.tokenAddress, items);
    await expect(f.settlement.connect(f.payoutOperator).payout(BATCH, f.tokenAddress, items))
      .to.be.revertedWithCustomError(f.settlement, "SettlementBatchAlreadyExecuted")
      .withArgs(BATCH);
  });

  it("reverts with SettlementEmptyBatch for no items", async () => {
    const f = await loadFixture(fixture);
    await expect(
      f.settlement.connect(f.payoutOperator).payout(BATCH, f.tokenAddress, []),
    ).to.be.revertedWithCustomError(f.settlement, "SettlementEmptyBatch");
  });

  it("reverts with SettlementInvalidMerchant naming the item that pays the zero address", async () => {
    const f = await loadFixture(fixture);
    const items = [
      { merchant: f.merchantA.address, amount: ONE, payoutReference: id("r") },
      { merchant: ethers.ZeroAddress, amount: ONE, payoutReference: id("r") },
    ];
    await expect(f.settlement.connect(f.payoutOperator).payout(BATCH, f.tokenAddress, items))
      .to.be.revertedWithCustomError(f.settlement, "SettlementInvalidMerchant")
      .withArgs(1n);
    expect(await f.settlement.isBatchExecuted(BATCH)).to.equal(false);
  });

  it("reverts the whole batch with the token's StablecoinAccountFrozen for a frozen merchant; the id stays usable for a retry without it", async () => {
    const f = await loadFixture(fixture);
    await f.token.connect(f.freezer).freeze(f.merchantB.address);
    const paid = { merchant: f.merchantA.address, amount: 10n * ONE, payoutReference: id("ref-a") };
    const frozen = { merchant: f.merchantB.address, amount: 5n * ONE, payoutReference: id("ref-b") };
    await expect(f.settlement.connect(f.payoutOperator).payout(BATCH, f.tokenAddress, [paid, frozen]))
      .to.be.revertedWithCustomError(f.token, "StablecoinAccountFrozen")
      .withArgs(f.merchantB.address);
    expect(await f.settlement.isBatchExecuted(BATCH)).to.equal(false);
    expect(await f.token.balanceOf(f.merchantA.address)).to.equal(0n);

    const retry = await f.settlement.connect(f.payoutOperator).payout(BATCH, f.tokenAddress, [paid]);
    await expect(retry)
      .to.emit(f.settlement, "PayoutBatchExecuted")
      .withArgs(BATCH, f.tokenAddress, 1n, 10n * ONE);
    await expect(retry).to.changeTokenBalances(ethers, f.token, [f.settlement, f.merchantA], [-10n * ONE, 10n * ONE]);
    expect(await f.settlement.isBatchExecuted(BATCH)).to.equal(true);
  });

  it("reverts with AccessControlUnauthorizedAccount without PAYOUT_ROLE", async () => {
    const f = await loadFixture(fixture);
    const items = [{ merchant: f.merchantA.address, amount: ONE, payoutReference: id("r") }];
    await expect(f.settlement.connect(f.stranger).payout(BATCH, f.tokenAddress, items))
      .to.be.revertedWithCustomError(f.settlement, "AccessControlUnauthorizedAccount")
      .withArgs(f.stranger.address, await f.settlement.PAYOUT_ROLE());
  });

  it("reverts with the token's ERC20InsufficientBalance when the treasury is short", async () => {
    const f = await loadFixture(fixture);
    const items = [{ merchant: f.merchantA.address, amount: TREASURY + 1n, payoutReference: id("r") }];
    await expect(f.settlement.connect(f.payoutOperator).payout(BATCH, f.tokenAddress, items))
      .to.be.revertedWithCustomError(f.token, "ERC20InsufficientBalance")
      .withArgs(f.settlementAddress, TREASURY, TREASURY + 1n);
  });
});

describe("Settlement.settleAuthorizations", () => {
  it("settles every valid item, emitting AuthorizationSettled per item", async () => {
    const f = await loadFixture(fixture);
    const a = await signedItem(f, f.alice, f.merchantA.address, 3n * ONE);
    const b = await signedItem(f, f.bob, f.merchantB.address, 4n * ONE);
    const tx = await f.settlement
      .connect(f.stranger)
      .settleAuthorizations(f.tokenAddress, [a, b], { gasLimit: await settleGasLimit(f, [a, b]) });
    await expect(tx).to.emit(f.settlement, "AuthorizationSettled").withArgs(0n, f.alice.address, a.nonce);
    await expect(tx).to.emit(f.settlement, "AuthorizationSettled").withArgs(1n, f.bob.address, b.nonce);
    await expect(tx).to.changeTokenBalances(
      ethers,
      f.token,
      [f.alice, f.bob, f.merchantA, f.merchantB],
      [-3n * ONE, -4n * ONE, 3n * ONE, 4n * ONE],
    );
  });

  it("skips failing items of a mixed batch, reporting AuthorizationFailed with the token's revert data", async () => {
    const f = await loadFixture(fixture);
    const good = await signedItem(f, f.alice, f.merchantA.address, ONE);
    const wrongSigner = await signedItem(f, f.alice, f.merchantA.address, ONE, { signer: f.bob });
    const now = BigInt(await time.latest());
    const expired = await signedItem(f, f.bob, f.merchantB.address, ONE, { validBefore: now });
    const tooMuch = await signedItem(f, f.carol, f.merchantB.address, ONE);
    const good2 = await signedItem(f, f.bob, f.merchantB.address, 2n * ONE);
    const replay = { ...good };
    const items = [good, wrongSigner, expired, tooMuch, good2, replay];
    const tx = await f.settlement.settleAuthorizations(f.tokenAddress, items, {
      gasLimit: await settleGasLimit(f, items),
    });
    await expect(tx).to.emit(f.settlement, "AuthorizationSettled").withArgs(0n, f.alice.address, good.nonce);
    await expect(tx)
      .to.emit(f.settlement, "AuthorizationFailed")
      .withArgs(1n, f.alice.address, wrongSigner.nonce, errorData(f, "StablecoinInvalidSignature"));
    await expect(tx)
      .to.emit(f.settlement, "AuthorizationFailed")
      .withArgs(2n, f.bob.address, expired.nonce, errorData(f, "StablecoinAuthorizationExpired", [now]));
    await expect(tx)
      .to.emit(f.settlement, "AuthorizationFailed")
      .withArgs(
        3n,
        f.carol.address,
        tooMuch.nonce,
        errorData(f, "ERC20InsufficientBalance", [f.carol.address, 0n, ONE]),
      );
    await expect(tx).to.emit(f.settlement, "AuthorizationSettled").withArgs(4n, f.bob.address, good2.nonce);
    await expect(tx)
      .to.emit(f.settlement, "AuthorizationFailed")
      .withArgs(
        5n,
        f.alice.address,
        good.nonce,
        errorData(f, "StablecoinAuthorizationUsed", [f.alice.address, good.nonce]),
      );
    await expect(tx).to.changeTokenBalances(ethers, f.token, [f.merchantA, f.merchantB], [ONE, 2n * ONE]);
  });

  it("does not revert when every item fails; nothing moves", async () => {
    const f = await loadFixture(fixture);
    const bad1 = await signedItem(f, f.alice, f.merchantA.address, ONE, { signer: f.bob });
    const bad2 = await signedItem(f, f.carol, f.merchantA.address, ONE);
    const tx = await f.settlement.settleAuthorizations(f.tokenAddress, [bad1, bad2], {
      gasLimit: await settleGasLimit(f, [bad1, bad2]),
    });
    await expect(tx)
      .to.emit(f.settlement, "AuthorizationFailed")
      .withArgs(0n, f.alice.address, bad1.nonce, errorData(f, "StablecoinInvalidSignature"));
    await expect(tx)
      .to.emit(f.settlement, "AuthorizationFailed")
      .withArgs(1n, f.carol.address, bad2.nonce, errorData(f, "ERC20InsufficientBalance", [f.carol.address, 0n, ONE]));
    await expect(tx).to.not.emit(f.settlement, "AuthorizationSettled");
    expect(await f.token.balanceOf(f.alice.address)).to.equal(INITIAL_BALANCE);
  });

  it("reverts with SettlementEmptyBatch for no items", async () => {
    const f = await loadFixture(fixture);
    await expect(f.settlement.settleAuthorizations(f.tokenAddress, [])).to.be.revertedWithCustomError(
      f.settlement,
      "SettlementEmptyBatch",
    );
  });

  it("reports a paused token's EnforcedPause per item", async () => {
    const f = await loadFixture(fixture);
    const item = await signedItem(f, f.alice, f.merchantA.address, ONE);
    await f.token.connect(f.pauser).pause();
    await expect(
      f.settlement.settleAuthorizations(f.tokenAddress, [item], { gasLimit: await settleGasLimit(f, [item]) }),
    )
      .to.emit(f.settlement, "AuthorizationFailed")
      .withArgs(0n, f.alice.address, item.nonce, errorData(f, "EnforcedPause"));
  });
});
