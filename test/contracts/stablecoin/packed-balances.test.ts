/**
 * The Stablecoin keeps an account's frozen flag in the top bit of the slot that holds its balance (as USDC v2.2),
 * so balances and the total supply are bounded by 2^255 - 1. These tests pin what that layout must never show from
 * outside: the flag never leaks into a balance or the supply, the supply cannot reach the flag, and movements at
 * the bound still add up.
 */
import { expect } from "chai";
import { network } from "hardhat";

import { deployStablecoin, INITIAL_BALANCE, ONE } from "../../helpers/stablecoin.ts";

const connection = await network.create();
const { ethers, networkHelpers } = connection;

/** The largest balance (and total supply) the packed slot holds. */
const MAX_BALANCE = 2n ** 255n - 1n;

const fixture = () => deployStablecoin(connection);

/** The token with a minter allowed to mint without limit, for minting up to the bound. */
async function unlimitedMinter() {
  const f = await networkHelpers.loadFixture(fixture);
  await f.token.connect(f.minterAdmin).configureMinter(f.minter.address, ethers.MaxUint256);
  return f;
}

describe("Stablecoin balances with the frozen flag in the same slot", () => {
  it("freezing and unfreezing leave balanceOf and totalSupply unchanged", async () => {
    const { token, freezer, alice } = await networkHelpers.loadFixture(fixture);
    const supply = await token.totalSupply();
    await token.connect(freezer).freeze(alice.address);
    expect(await token.isFrozen(alice.address)).to.equal(true);
    expect(await token.balanceOf(alice.address)).to.equal(INITIAL_BALANCE);
    expect(await token.totalSupply()).to.equal(supply);
    await token.connect(freezer).unfreeze(alice.address);
    expect(await token.isFrozen(alice.address)).to.equal(false);
    expect(await token.balanceOf(alice.address)).to.equal(INITIAL_BALANCE);
    expect(await token.totalSupply()).to.equal(supply);
  });

  it("an account frozen before it ever held anything receives a balance once unfrozen, and keeps it when frozen again", async () => {
    const { token, freezer, alice, carol } = await networkHelpers.loadFixture(fixture);
    await token.connect(freezer).freeze(carol.address);
    expect(await token.balanceOf(carol.address)).to.equal(0n);
    await token.connect(freezer).unfreeze(carol.address);
    await token.connect(alice).transfer(carol.address, ONE);
    await token.connect(freezer).freeze(carol.address);
    expect(await token.balanceOf(carol.address)).to.equal(ONE);
    await expect(token.connect(alice).transfer(carol.address, ONE))
      .to.be.revertedWithCustomError(token, "StablecoinAccountFrozen")
      .withArgs(carol.address);
  });

  it("a transfer to oneself moves nothing and emits Transfer; a frozen account cannot make one", async () => {
    const { token, freezer, alice } = await networkHelpers.loadFixture(fixture);
    await expect(token.connect(alice).transfer(alice.address, ONE))
      .to.emit(token, "Transfer")
      .withArgs(alice.address, alice.address, ONE);
    expect(await token.balanceOf(alice.address)).to.equal(INITIAL_BALANCE);
    await expect(token.connect(alice).transfer(alice.address, INITIAL_BALANCE + 1n))
      .to.be.revertedWithCustomError(token, "ERC20InsufficientBalance")
      .withArgs(alice.address, INITIAL_BALANCE, INITIAL_BALANCE + 1n);
    await token.connect(freezer).freeze(alice.address);
    await expect(token.connect(alice).transfer(alice.address, 1n))
      .to.be.revertedWithCustomError(token, "StablecoinAccountFrozen")
      .withArgs(alice.address);
  });

  it("mints the total supply up to exactly 2^255 - 1, and a frozen holder of it reports the whole balance", async () => {
    const { token, minter, freezer, carol } = await unlimitedMinter();
    const room = MAX_BALANCE - (await token.totalSupply());
    await token.connect(minter).mint(carol.address, room);
    expect(await token.totalSupply()).to.equal(MAX_BALANCE);
    expect(await token.balanceOf(carol.address)).to.equal(room);
    await token.connect(freezer).freeze(carol.address);
    expect(await token.balanceOf(carol.address)).to.equal(room);
    expect(await token.isFrozen(carol.address)).to.equal(true);
  });

  it("reverts with StablecoinSupplyOverflow(totalSupply, amount) for a mint that would pass 2^255 - 1, minting nothing", async () => {
    const { token, minter, carol } = await unlimitedMinter();
    const supply = await token.totalSupply();
    const room = MAX_BALANCE - supply;
    for (const amount of [room + 1n, 2n ** 255n, ethers.MaxUint256]) {
      await expect(token.connect(minter).mint(carol.address, amount))
        .to.be.revertedWithCustomError(token, "StablecoinSupplyOverflow")
        .withArgs(supply, amount);
    }
    expect(await token.totalSupply()).to.equal(supply);
    expect(await token.balanceOf(carol.address)).to.equal(0n);
  });

  it("at the bound, a credit never carries into the flag: the receiver stays unfrozen and the sum stays the supply", async () => {
    const { token, minter, freezer, bob, carol } = await unlimitedMinter();
    const room = MAX_BALANCE - (await token.totalSupply());
    await token.connect(minter).mint(carol.address, room);
    await token.connect(carol).transfer(bob.address, room);
    expect(await token.balanceOf(bob.address)).to.equal(room + INITIAL_BALANCE);
    expect(await token.isFrozen(bob.address)).to.equal(false);
    await token.connect(freezer).freeze(bob.address);
    expect(await token.balanceOf(bob.address)).to.equal(room + INITIAL_BALANCE);
    await token.connect(freezer).unfreeze(bob.address);
    await token.connect(bob).transfer(minter.address, room);
    await token.connect(minter).burn(room);
    expect(await token.totalSupply()).to.equal(2n * INITIAL_BALANCE);
    expect(await token.balanceOf(bob.address)).to.equal(INITIAL_BALANCE);
  });
});
