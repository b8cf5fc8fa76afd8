import { expect } from "chai";
import { network } from "hardhat";

import { deployStablecoin, INITIAL_BALANCE, MINTER_ALLOWANCE, ONE } from "../../helpers/stablecoin.ts";

const connection = await network.create();
const { ethers, networkHelpers } = connection;

const fixture = () => deployStablecoin(connection);

describe("Stablecoin.configureMinter", () => {
  it("makes an account a minter with an allowance and emits MinterConfigured(minter, allowance)", async () => {
    const { token, minterAdmin, carol } = await networkHelpers.loadFixture(fixture);
    expect(await token.isMinter(carol.address)).to.equal(false);
    expect(await token.minterAllowance(carol.address)).to.equal(0n);
    await expect(token.connect(minterAdmin).configureMinter(carol.address, 5n * ONE))
      .to.emit(token, "MinterConfigured")
      .withArgs(carol.address, 5n * ONE);
    expect(await token.isMinter(carol.address)).to.equal(true);
    expect(await token.minterAllowance(carol.address)).to.equal(5n * ONE);
  });

  it("replaces (not adds to) an existing minter's allowance", async () => {
    const { token, minterAdmin, minter } = await networkHelpers.loadFixture(fixture);
    await token.connect(minterAdmin).configureMinter(minter.address, 3n);
    expect(await token.minterAllowance(minter.address)).to.equal(3n);
  });

  it("accepts a zero allowance: a minter that may only burn", async () => {
    const { token, minterAdmin, carol } = await networkHelpers.loadFixture(fixture);
    await token.connect(minterAdmin).configureMinter(carol.address, 0n);
    expect(await token.isMinter(carol.address)).to.equal(true);
  });

  it("reverts with StablecoinInvalidMinter(0) for the zero address", async () => {
    const { token, minterAdmin } = await networkHelpers.loadFixture(fixture);
    await expect(token.connect(minterAdmin).configureMinter(ethers.ZeroAddress, 1n))
      .to.be.revertedWithCustomError(token, "StablecoinInvalidMinter")
      .withArgs(ethers.ZeroAddress);
  });
});

describe("Stablecoin.removeMinter", () => {
  it("removes the minter, zeroes its allowance and emits MinterRemoved(minter)", async () => {
    const { token, minterAdmin, minter } = await networkHelpers.loadFixture(fixture);
    await expect(token.connect(minterAdmin).removeMinter(minter.address))
      .to.emit(token, "MinterRemoved")
      .withArgs(minter.address);
    expect(await token.isMinter(minter.address)).to.equal(false);
    expect(await token.minterAllowance(minter.address)).to.equal(0n);
    await expect(token.connect(minter).mint(minter.address, 1n))
      .to.be.revertedWithCustomError(token, "StablecoinNotMinter")
      .withArgs(minter.address);
  });

  it("reverts with StablecoinNotMinter(account) for an account that is not a minter", async () => {
    const { token, minterAdmin, carol } = await networkHelpers.loadFixture(fixture);
    await expect(token.connect(minterAdmin).removeMinter(carol.address))
      .to.be.revertedWithCustomError(token, "StablecoinNotMinter")
      .withArgs(carol.address);
  });
});

describe("Stablecoin.mint", () => {
  it("mints to the recipient, decrements the allowance, emits Transfer(0, to, amount) and Mint(minter, to, amount)", async () => {
    const { token, minter, carol } = await networkHelpers.loadFixture(fixture);
    const supply = await token.totalSupply();
    const allowance = await token.minterAllowance(minter.address);
    const tx = token.connect(minter).mint(carol.address, 42n);
    await expect(tx).to.emit(token, "Transfer").withArgs(ethers.ZeroAddress, carol.address, 42n);
    await expect(tx).to.emit(token, "Mint").withArgs(minter.address, carol.address, 42n);
    expect(await token.balanceOf(carol.address)).to.equal(42n);
    expect(await token.totalSupply()).to.equal(supply + 42n);
    expect(await token.minterAllowance(minter.address)).to.equal(allowance - 42n);
  });

  it("mints exactly the whole remaining allowance", async () => {
    const { token, minter, carol } = await networkHelpers.loadFixture(fixture);
    const left = await token.minterAllowance(minter.address);
    await token.connect(minter).mint(carol.address, left);
    expect(await token.minterAllowance(minter.address)).to.equal(0n);
  });

  it("reverts with StablecoinMinterAllowanceExceeded(minter, allowance, needed) above the allowance", async () => {
    const { token, minter, carol } = await networkHelpers.loadFixture(fixture);
    const left = MINTER_ALLOWANCE - 2n * INITIAL_BALANCE;
    await expect(token.connect(minter).mint(carol.address, left + 1n))
      .to.be.revertedWithCustomError(token, "StablecoinMinterAllowanceExceeded")
      .withArgs(minter.address, left, left + 1n);
  });

  it("reverts with StablecoinNotMinter(caller) for a non-minter", async () => {
    const { token, carol } = await networkHelpers.loadFixture(fixture);
    await expect(token.connect(carol).mint(carol.address, 1n))
      .to.be.revertedWithCustomError(token, "StablecoinNotMinter")
      .withArgs(carol.address);
  });

  it("reverts with ERC20InvalidReceiver(0) when minting to the zero address", async () => {
    const { token, minter } = await networkHelpers.loadFixture(fixture);
    await expect(token.connect(minter).mint(ethers.ZeroAddress, 1n))
      .to.be.revertedWithCustomError(token, "ERC20InvalidReceiver")
      .withArgs(ethers.ZeroAddress);
  });

  it("reverts with EnforcedPause while paused", async () => {
    const { token, minter, pauser, carol } = await networkHelpers.loadFixture(fixture);
    await token.connect(pauser).pause();
    await expect(token.connect(minter).mint(carol.address, 1n)).to.be.revertedWithCustomError(token, "EnforcedPause");
  });

  it("reverts with StablecoinAccountFrozen(to) when the recipient is frozen", async () => {
    const { token, minter, freezer, carol } = await networkHelpers.loadFixture(fixture);
    await token.connect(freezer).freeze(carol.address);
    await expect(token.connect(minter).mint(carol.address, 1n))
      .to.be.revertedWithCustomError(token, "StablecoinAccountFrozen")
      .withArgs(carol.address);
  });

  it("reverts with StablecoinAccountFrozen(minter) when the minter is frozen", async () => {
    const { token, minter, freezer, carol } = await networkHelpers.loadFixture(fixture);
    await token.connect(freezer).freeze(minter.address);
    await expect(token.connect(minter).mint(carol.address, 1n))
      .to.be.revertedWithCustomError(token, "StablecoinAccountFrozen")
      .withArgs(minter.address);
    expect(await token.minterAllowance(minter.address)).to.equal(MINTER_ALLOWANCE - 2n * INITIAL_BALANCE);
  });
});

describe("Stablecoin.burn", () => {
  it("burns the minter's own balance, emits Transfer(minter, 0, amount) and Burn(minter, amount)", async () => {
    const { token, minter, alice } = await networkHelpers.loadFixture(fixture);
    await token.connect(alice).transfer(minter.address, 10n);
    const supply = await token.totalSupply();
    const allowance = await token.minterAllowance(minter.address);
    const tx = token.connect(minter).burn(4n);
    await expect(tx).to.emit(token, "Transfer").withArgs(minter.address, ethers.ZeroAddress, 4n);
    await expect(tx).to.emit(token, "Burn").withArgs(minter.address, 4n);
    expect(await token.balanceOf(minter.address)).to.equal(6n);
    expect(await token.totalSupply()).to.equal(supply - 4n);
    expect(await token.minterAllowance(minter.address)).to.equal(allowance);
  });

  it("reverts with ERC20InsufficientBalance(minter, balance, amount) above its balance", async () => {
    const { token, minter, alice } = await networkHelpers.loadFixture(fixture);
    await token.connect(alice).transfer(minter.address, 10n);
    await expect(token.connect(minter).burn(11n))
      .to.be.revertedWithCustomError(token, "ERC20InsufficientBalance")
      .withArgs(minter.address, 10n, 11n);
  });

  it("reverts with StablecoinNotMinter(caller) for a holder that is not a minter", async () => {
    const { token, alice } = await networkHelpers.loadFixture(fixture);
    await expect(token.connect(alice).burn(1n))
      .to.be.revertedWithCustomError(token, "StablecoinNotMinter")
      .withArgs(alice.address);
  });

  it("reverts with EnforcedPause while paused", async () => {
    const { token, minter, alice, pauser } = await networkHelpers.loadFixture(fixture);
    await token.connect(alice).transfer(minter.address, 10n);
    await token.connect(pauser).pause();
    await expect(token.connect(minter).burn(1n)).to.be.revertedWithCustomError(token, "EnforcedPause");
  });

  it("reverts with StablecoinAccountFrozen(minter) when the minter is frozen", async () => {
    const { token, minter, alice, freezer } = await networkHelpers.loadFixture(fixture);
    await token.connect(alice).transfer(minter.address, 10n);
    await token.connect(freezer).freeze(minter.address);
    await expect(token.connect(minter).burn(1n))
      .to.be.revertedWithCustomError(token, "StablecoinAccountFrozen")
      .withArgs(minter.address);
  });
});

describe("Stablecoin freezing the zero address", () => {
  it("stops all minting and burning with StablecoinAccountFrozen(0), leaving transfers alone", async () => {
    const { token, freezer, minter, alice, carol } = await networkHelpers.loadFixture(fixture);
    await token.connect(alice).transfer(minter.address, 10n);
    await token.connect(freezer).freeze(ethers.ZeroAddress);
    await expect(token.connect(minter).mint(carol.address, 1n))
      .to.be.revertedWithCustomError(token, "StablecoinAccountFrozen")
      .withArgs(ethers.ZeroAddress);
    await expect(token.connect(minter).burn(1n))
      .to.be.revertedWithCustomError(token, "StablecoinAccountFrozen")
      .withArgs(ethers.ZeroAddress);
    await expect(token.connect(alice).transfer(carol.address, 1n)).to.changeTokenBalance(ethers, token, carol, 1n);
  });
});
