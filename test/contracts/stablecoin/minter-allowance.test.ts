import { expect } from "chai";
import { network } from "hardhat";

import { deployStablecoin, ONE } from "../../helpers/stablecoin.ts";

const connection = await network.create();
const { ethers, networkHelpers } = connection;

/** The token's fixture, with carol configured as a minter allowed 100 tokens. */
async function fixture() {
  const base = await deployStablecoin(connection);
  await base.token.connect(base.minterAdmin).configureMinter(base.carol.address, 100n * ONE);
  return base;
}

describe("Stablecoin minter allowance front-running (configureMinter overwrites)", () => {
  it("lets a minter that front-runs a lowering configureMinter(40) mint 140 in all", async () => {
    const { token, minterAdmin, carol } = await networkHelpers.loadFixture(fixture);
    // The admin means to lower carol's 100 to 40; carol sees it in the mempool and mints her 100 first.
    await token.connect(carol).mint(carol.address, 100n * ONE);
    await token.connect(minterAdmin).configureMinter(carol.address, 40n * ONE);
    await token.connect(carol).mint(carol.address, 40n * ONE);
    expect(await token.balanceOf(carol.address)).to.equal(140n * ONE);
  });

  it("leaves a minter that front-runs decreaseMinterAllowance(60) nothing more to mint", async () => {
    const { token, minterAdmin, carol } = await networkHelpers.loadFixture(fixture);
    await token.connect(carol).mint(carol.address, 100n * ONE);
    await expect(token.connect(minterAdmin).decreaseMinterAllowance(carol.address, 60n * ONE))
      .to.emit(token, "MinterAllowanceDecreased")
      .withArgs(carol.address, 60n * ONE, 0n);
    expect(await token.minterAllowance(carol.address)).to.equal(0n);
    await expect(token.connect(carol).mint(carol.address, 1n))
      .to.be.revertedWithCustomError(token, "StablecoinMinterAllowanceExceeded")
      .withArgs(carol.address, 0n, 1n);
    expect(await token.balanceOf(carol.address)).to.equal(100n * ONE);
  });

  it("zeroes the allowance of a minter that front-ran with part of it (mints 50 first: 50 in all; a reverting decrease would leave her 50 more)", async () => {
    const { token, minterAdmin, carol } = await networkHelpers.loadFixture(fixture);
    await token.connect(carol).mint(carol.address, 50n * ONE);
    // 50 left, less than the decrement: the allowance saturates at zero rather than the call reverting and
    // leaving carol her 50.
    await token.connect(minterAdmin).decreaseMinterAllowance(carol.address, 60n * ONE);
    expect(await token.minterAllowance(carol.address)).to.equal(0n);
  });
});

describe("Stablecoin.increaseMinterAllowance", () => {
  it("adds to the minter's allowance and emits MinterAllowanceIncreased(minter, increment, allowance)", async () => {
    const { token, minterAdmin, carol } = await networkHelpers.loadFixture(fixture);
    await token.connect(carol).mint(carol.address, 30n * ONE);
    await expect(token.connect(minterAdmin).increaseMinterAllowance(carol.address, 50n * ONE))
      .to.emit(token, "MinterAllowanceIncreased")
      .withArgs(carol.address, 50n * ONE, 120n * ONE);
    expect(await token.minterAllowance(carol.address)).to.equal(120n * ONE);
  });

  it("reverts with StablecoinMinterAllowanceOverflow(minter, allowance, increment) past uint256", async () => {
    const { token, minterAdmin, carol } = await networkHelpers.loadFixture(fixture);
    const increment = ethers.MaxUint256 - 100n * ONE + 1n;
    await expect(token.connect(minterAdmin).increaseMinterAllowance(carol.address, increment))
      .to.be.revertedWithCustomError(token, "StablecoinMinterAllowanceOverflow")
      .withArgs(carol.address, 100n * ONE, increment);
  });

  it("reverts with StablecoinNotMinter(account) for an account that is not a minter", async () => {
    const { token, minterAdmin, bob } = await networkHelpers.loadFixture(fixture);
    await expect(token.connect(minterAdmin).increaseMinterAllowance(bob.address, 1n))
      .to.be.revertedWithCustomError(token, "StablecoinNotMinter")
      .withArgs(bob.address);
  });

  it("reverts with AccessControlUnauthorizedAccount without MINTER_ADMIN_ROLE (the minter cannot raise its own)", async () => {
    const { token, carol } = await networkHelpers.loadFixture(fixture);
    await expect(token.connect(carol).increaseMinterAllowance(carol.address, 1n))
      .to.be.revertedWithCustomError(token, "AccessControlUnauthorizedAccount")
      .withArgs(carol.address, await token.MINTER_ADMIN_ROLE());
  });
});

describe("Stablecoin.decreaseMinterAllowance", () => {
  it("subtracts from the minter's allowance and emits MinterAllowanceDecreased(minter, decrement, allowance)", async () => {
    const { token, minterAdmin, carol } = await networkHelpers.loadFixture(fixture);
    await expect(token.connect(minterAdmin).decreaseMinterAllowance(carol.address, 60n * ONE))
      .to.emit(token, "MinterAllowanceDecreased")
      .withArgs(carol.address, 60n * ONE, 40n * ONE);
    expect(await token.minterAllowance(carol.address)).to.equal(40n * ONE);
    // Still a minter, of 40.
    await token.connect(carol).mint(carol.address, 40n * ONE);
    expect(await token.isMinter(carol.address)).to.equal(true);
  });

  it("reverts with StablecoinNotMinter(account) for an account that is not a minter", async () => {
    const { token, minterAdmin, bob } = await networkHelpers.loadFixture(fixture);
    await expect(token.connect(minterAdmin).decreaseMinterAllowance(bob.address, 1n))
      .to.be.revertedWithCustomError(token, "StablecoinNotMinter")
      .withArgs(bob.address);
  });

  it("reverts with AccessControlUnauthorizedAccount without MINTER_ADMIN_ROLE", async () => {
    const { token, carol } = await networkHelpers.loadFixture(fixture);
    await expect(token.connect(carol).decreaseMinterAllowance(carol.address, 1n))
      .to.be.revertedWithCustomError(token, "AccessControlUnauthorizedAccount")
      .withArgs(carol.address, await token.MINTER_ADMIN_ROLE());
  });
});
