import { expect } from "chai";
import { network } from "hardhat";

import { deployStablecoin, INITIAL_BALANCE, ONE } from "../../helpers/stablecoin.ts";

const connection = await network.create();
const { ethers, networkHelpers } = connection;

const fixture = () => deployStablecoin(connection);

describe("Stablecoin ERC-20 basics", () => {
  it("transfer moves value and emits Transfer(from, to, value)", async () => {
    const { token, alice, bob } = await networkHelpers.loadFixture(fixture);
    const tx = token.connect(alice).transfer(bob.address, ONE);
    await expect(tx).to.emit(token, "Transfer").withArgs(alice.address, bob.address, ONE);
    await expect(tx).to.changeTokenBalances(ethers, token, [alice, bob], [-ONE, ONE]);
  });

  it("transfer reverts with ERC20InsufficientBalance(from, balance, needed)", async () => {
    const { token, alice, bob } = await networkHelpers.loadFixture(fixture);
    await expect(token.connect(alice).transfer(bob.address, INITIAL_BALANCE + 1n))
      .to.be.revertedWithCustomError(token, "ERC20InsufficientBalance")
      .withArgs(alice.address, INITIAL_BALANCE, INITIAL_BALANCE + 1n);
  });

  it("transfer reverts with ERC20InvalidReceiver(0) to the zero address", async () => {
    const { token, alice } = await networkHelpers.loadFixture(fixture);
    await expect(token.connect(alice).transfer(ethers.ZeroAddress, 1n))
      .to.be.revertedWithCustomError(token, "ERC20InvalidReceiver")
      .withArgs(ethers.ZeroAddress);
  });

  it("approve sets the allowance and emits Approval(owner, spender, value)", async () => {
    const { token, alice, carol } = await networkHelpers.loadFixture(fixture);
    await expect(token.connect(alice).approve(carol.address, 5n))
      .to.emit(token, "Approval")
      .withArgs(alice.address, carol.address, 5n);
    expect(await token.allowance(alice.address, carol.address)).to.equal(5n);
  });

  it("approve reverts with ERC20InvalidSpender(0) for the zero spender", async () => {
    const { token, alice } = await networkHelpers.loadFixture(fixture);
    await expect(token.connect(alice).approve(ethers.ZeroAddress, 5n))
      .to.be.revertedWithCustomError(token, "ERC20InvalidSpender")
      .withArgs(ethers.ZeroAddress);
  });

  it("transferFrom spends the allowance and moves value", async () => {
    const { token, alice, bob, carol } = await networkHelpers.loadFixture(fixture);
    await token.connect(alice).approve(carol.address, 5n);
    const tx = token.connect(carol).transferFrom(alice.address, bob.address, 3n);
    await expect(tx).to.emit(token, "Transfer").withArgs(alice.address, bob.address, 3n);
    await expect(tx).to.changeTokenBalances(ethers, token, [alice, bob], [-3n, 3n]);
    expect(await token.allowance(alice.address, carol.address)).to.equal(2n);
  });

  it("transferFrom does not spend an infinite allowance", async () => {
    const { token, alice, bob, carol } = await networkHelpers.loadFixture(fixture);
    await token.connect(alice).approve(carol.address, ethers.MaxUint256);
    await token.connect(carol).transferFrom(alice.address, bob.address, 3n);
    expect(await token.allowance(alice.address, carol.address)).to.equal(ethers.MaxUint256);
  });

  it("transferFrom reverts with ERC20InsufficientAllowance(spender, allowance, needed)", async () => {
    const { token, alice, bob, carol } = await networkHelpers.loadFixture(fixture);
    await token.connect(alice).approve(carol.address, 2n);
    await expect(token.connect(carol).transferFrom(alice.address, bob.address, 3n))
      .to.be.revertedWithCustomError(token, "ERC20InsufficientAllowance")
      .withArgs(carol.address, 2n, 3n);
  });
});

describe("Stablecoin.pause / unpause", () => {
  it("pause emits Paused(pauser) and unpause emits Unpaused(pauser)", async () => {
    const { token, pauser } = await networkHelpers.loadFixture(fixture);
    await expect(token.connect(pauser).pause()).to.emit(token, "Paused").withArgs(pauser.address);
    expect(await token.paused()).to.equal(true);
    await expect(token.connect(pauser).unpause()).to.emit(token, "Unpaused").withArgs(pauser.address);
    expect(await token.paused()).to.equal(false);
  });

  it("pause reverts with EnforcedPause when already paused; unpause with ExpectedPause when not paused", async () => {
    const { token, pauser } = await networkHelpers.loadFixture(fixture);
    await expect(token.connect(pauser).unpause()).to.be.revertedWithCustomError(token, "ExpectedPause");
    await token.connect(pauser).pause();
    await expect(token.connect(pauser).pause()).to.be.revertedWithCustomError(token, "EnforcedPause");
  });

  it("stops transfer, approve and transferFrom with EnforcedPause, and they work again after unpause", async () => {
    const { token, pauser, alice, bob, carol } = await networkHelpers.loadFixture(fixture);
    await token.connect(alice).approve(carol.address, 10n);
    await token.connect(bob).approve(carol.address, ethers.MaxUint256);
    await token.connect(pauser).pause();
    await expect(token.connect(alice).transfer(bob.address, 1n)).to.be.revertedWithCustomError(token, "EnforcedPause");
    await expect(token.connect(alice).approve(bob.address, 1n)).to.be.revertedWithCustomError(token, "EnforcedPause");
    await expect(token.connect(carol).transferFrom(alice.address, bob.address, 1n)).to.be.revertedWithCustomError(
      token,
      "EnforcedPause",
    );
    await expect(token.connect(carol).transferFrom(bob.address, alice.address, 1n)).to.be.revertedWithCustomError(
      token,
      "EnforcedPause",
    );
    await token.connect(pauser).unpause();
    await expect(token.connect(alice).transfer(bob.address, 1n)).to.changeTokenBalance(ethers, token, bob, 1n);
    await expect(token.connect(carol).transferFrom(alice.address, bob.address, 1n)).to.changeTokenBalance(
      ethers,
      token,
      bob,
      1n,
    );
  });
});

describe("Stablecoin.freeze / unfreeze", () => {
  it("freeze emits Frozen(account) and unfreeze emits Unfrozen(account); both are idempotent", async () => {
    const { token, freezer, carol } = await networkHelpers.loadFixture(fixture);
    await expect(token.connect(freezer).freeze(carol.address)).to.emit(token, "Frozen").withArgs(carol.address);
    await expect(token.connect(freezer).freeze(carol.address)).to.emit(token, "Frozen").withArgs(carol.address);
    expect(await token.isFrozen(carol.address)).to.equal(true);
    await expect(token.connect(freezer).unfreeze(carol.address)).to.emit(token, "Unfrozen").withArgs(carol.address);
    await expect(token.connect(freezer).unfreeze(carol.address)).to.emit(token, "Unfrozen").withArgs(carol.address);
    expect(await token.isFrozen(carol.address)).to.equal(false);
  });

  it("a frozen account cannot send: transfer reverts with StablecoinAccountFrozen(from)", async () => {
    const { token, freezer, alice, bob } = await networkHelpers.loadFixture(fixture);
    await token.connect(freezer).freeze(alice.address);
    await expect(token.connect(alice).transfer(bob.address, 1n))
      .to.be.revertedWithCustomError(token, "StablecoinAccountFrozen")
      .withArgs(alice.address);
  });

  it("a frozen account cannot receive: transfer reverts with StablecoinAccountFrozen(to)", async () => {
    const { token, freezer, alice, bob } = await networkHelpers.loadFixture(fixture);
    await token.connect(freezer).freeze(bob.address);
    await expect(token.connect(alice).transfer(bob.address, 1n))
      .to.be.revertedWithCustomError(token, "StablecoinAccountFrozen")
      .withArgs(bob.address);
  });

  it("a frozen owner cannot approve, and nobody can approve a frozen spender", async () => {
    const { token, freezer, alice, bob, carol } = await networkHelpers.loadFixture(fixture);
    await token.connect(freezer).freeze(alice.address);
    await expect(token.connect(alice).approve(bob.address, 1n))
      .to.be.revertedWithCustomError(token, "StablecoinAccountFrozen")
      .withArgs(alice.address);
    await expect(token.connect(bob).approve(alice.address, 1n))
      .to.be.revertedWithCustomError(token, "StablecoinAccountFrozen")
      .withArgs(alice.address);
    await expect(token.connect(bob).approve(carol.address, 1n)).to.emit(token, "Approval");
  });

  it("a frozen spender cannot transferFrom, with a finite or an infinite allowance", async () => {
    const { token, freezer, alice, bob, carol } = await networkHelpers.loadFixture(fixture);
    await token.connect(alice).approve(carol.address, 10n);
    await token.connect(bob).approve(carol.address, ethers.MaxUint256);
    await token.connect(freezer).freeze(carol.address);
    await expect(token.connect(carol).transferFrom(alice.address, bob.address, 1n))
      .to.be.revertedWithCustomError(token, "StablecoinAccountFrozen")
      .withArgs(carol.address);
    await expect(token.connect(carol).transferFrom(bob.address, alice.address, 1n))
      .to.be.revertedWithCustomError(token, "StablecoinAccountFrozen")
      .withArgs(carol.address);
  });

  it("transferFrom reverts with StablecoinAccountFrozen when the owner or the recipient is frozen", async () => {
    const { token, freezer, alice, bob, carol } = await networkHelpers.loadFixture(fixture);
    await token.connect(alice).approve(carol.address, ethers.MaxUint256);
    await token.connect(freezer).freeze(alice.address);
    await expect(token.connect(carol).transferFrom(alice.address, bob.address, 1n))
      .to.be.revertedWithCustomError(token, "StablecoinAccountFrozen")
      .withArgs(alice.address);
    await token.connect(freezer).unfreeze(alice.address);
    await token.connect(freezer).freeze(bob.address);
    await expect(token.connect(carol).transferFrom(alice.address, bob.address, 1n))
      .to.be.revertedWithCustomError(token, "StablecoinAccountFrozen")
      .withArgs(bob.address);
  });

  it("an unfrozen account moves tokens again", async () => {
    const { token, freezer, alice, bob } = await networkHelpers.loadFixture(fixture);
    await token.connect(freezer).freeze(alice.address);
    await token.connect(freezer).unfreeze(alice.address);
    await expect(token.connect(alice).transfer(bob.address, 1n)).to.changeTokenBalance(ethers, token, bob, 1n);
  });
});

describe("Stablecoin.rescueERC20", () => {
  async function withStrayTokens() {
    const f = await fixture();
    const stray = await ethers.deployContract("StablecoinRescuableTokenMock");
    await stray.mint(await f.token.getAddress(), 100n);
    return { ...f, stray };
  }

  it("sends another token held by the contract to the recipient and emits TokensRescued(token, to, amount)", async () => {
    const { token, stray, rescuer, carol } = await networkHelpers.loadFixture(withStrayTokens);
    const strayAddress = await stray.getAddress();
    await expect(token.connect(rescuer).rescueERC20(strayAddress, carol.address, 60n))
      .to.emit(token, "TokensRescued")
      .withArgs(strayAddress, carol.address, 60n);
    expect(await stray.balanceOf(carol.address)).to.equal(60n);
    expect(await stray.balanceOf(await token.getAddress())).to.equal(40n);
  });

  it("rescues this token itself when it was sent to the contract", async () => {
    const { token, alice, rescuer, carol } = await networkHelpers.loadFixture(withStrayTokens);
    const self = await token.getAddress();
    await token.connect(alice).transfer(self, 5n);
    const tx = token.connect(rescuer).rescueERC20(self, carol.address, 5n);
    await expect(tx).to.emit(token, "TokensRescued").withArgs(self, carol.address, 5n);
    await expect(tx).to.changeTokenBalances(ethers, token, [self, carol.address], [-5n, 5n]);
  });

  it("reverts with ERC20InvalidReceiver(0) for the zero recipient", async () => {
    const { token, stray, rescuer } = await networkHelpers.loadFixture(withStrayTokens);
    await expect(token.connect(rescuer).rescueERC20(await stray.getAddress(), ethers.ZeroAddress, 1n))
      .to.be.revertedWithCustomError(token, "ERC20InvalidReceiver")
      .withArgs(ethers.ZeroAddress);
  });

  it("bubbles the token's ERC20InsufficientBalance when rescuing more than the contract holds", async () => {
    const { token, stray, rescuer, carol } = await networkHelpers.loadFixture(withStrayTokens);
    await expect(token.connect(rescuer).rescueERC20(await stray.getAddress(), carol.address, 101n))
      .to.be.revertedWithCustomError(stray, "ERC20InsufficientBalance")
      .withArgs(await token.getAddress(), 100n, 101n);
  });

  it("reverts with SafeERC20FailedOperation(token) when the token returns false", async () => {
    const { token, rescuer, carol } = await networkHelpers.loadFixture(withStrayTokens);
    const bad = await ethers.deployContract("StablecoinFalseReturningTokenMock");
    await expect(token.connect(rescuer).rescueERC20(await bad.getAddress(), carol.address, 1n))
      .to.be.revertedWithCustomError(token, "SafeERC20FailedOperation")
      .withArgs(await bad.getAddress());
  });
});
