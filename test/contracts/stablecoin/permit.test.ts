import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { expect } from "chai";
import { network } from "hardhat";

import { signPermit, toHighS, type PermitMessage } from "../../helpers/eip712.ts";
import { deployStablecoin } from "../../helpers/stablecoin.ts";

const connection = await network.create();
const { networkHelpers } = connection;
const { time } = networkHelpers;

const fixture = () => deployStablecoin(connection);

async function permitFor(token: { nonces(owner: string): Promise<bigint> }, owner: string, spender: string) {
  const deadline = BigInt(await time.latest()) + 3600n;
  return { owner, spender, value: 123n, nonce: await token.nonces(owner), deadline } satisfies PermitMessage;
}

describe("Stablecoin.permit", () => {
  it("sets the allowance from the owner's signature, emits Approval and increments nonces(owner)", async () => {
    const { token, alice, carol, relayer } = await networkHelpers.loadFixture(fixture);
    const p = await permitFor(token, alice.address, carol.address);
    const sig = await signPermit(alice, token, p);
    expect(await token.nonces(alice.address)).to.equal(0n);
    await expect(token.connect(relayer).permit(p.owner, p.spender, p.value, p.deadline, sig.v, sig.r, sig.s))
      .to.emit(token, "Approval")
      .withArgs(alice.address, carol.address, 123n);
    expect(await token.allowance(alice.address, carol.address)).to.equal(123n);
    expect(await token.nonces(alice.address)).to.equal(1n);
  });

  it("accepts the deadline's own second", async () => {
    const { token, alice, carol } = await networkHelpers.loadFixture(fixture);
    const p = await permitFor(token, alice.address, carol.address);
    const sig = await signPermit(alice, token, p);
    await time.setNextBlockTimestamp(p.deadline);
    await expect(token.permit(p.owner, p.spender, p.value, p.deadline, sig.v, sig.r, sig.s)).to.emit(token, "Approval");
  });

  it("reverts with ERC2612ExpiredSignature(deadline) after the deadline", async () => {
    const { token, alice, carol } = await networkHelpers.loadFixture(fixture);
    const p = await permitFor(token, alice.address, carol.address);
    const sig = await signPermit(alice, token, p);
    await time.increaseTo(p.deadline + 1n);
    await expect(token.permit(p.owner, p.spender, p.value, p.deadline, sig.v, sig.r, sig.s))
      .to.be.revertedWithCustomError(token, "ERC2612ExpiredSignature")
      .withArgs(p.deadline);
  });

  it("reverts with ERC2612InvalidSigner(signer, owner) when signed by someone else", async () => {
    const { token, alice, bob, carol } = await networkHelpers.loadFixture(fixture);
    const p = await permitFor(token, alice.address, carol.address);
    const sig = await signPermit(bob, token, p);
    await expect(token.permit(p.owner, p.spender, p.value, p.deadline, sig.v, sig.r, sig.s))
      .to.be.revertedWithCustomError(token, "ERC2612InvalidSigner")
      .withArgs(bob.address, alice.address);
  });

  it("reverts with ERC2612InvalidSigner when a signature is replayed (the nonce moved on)", async () => {
    const { token, alice, carol } = await networkHelpers.loadFixture(fixture);
    const p = await permitFor(token, alice.address, carol.address);
    const sig = await signPermit(alice, token, p);
    await token.permit(p.owner, p.spender, p.value, p.deadline, sig.v, sig.r, sig.s);
    await expect(token.permit(p.owner, p.spender, p.value, p.deadline, sig.v, sig.r, sig.s))
      .to.be.revertedWithCustomError(token, "ERC2612InvalidSigner")
      .withArgs(anyValue, alice.address);
  });

  it("reverts with ECDSAInvalidSignatureS(s) for the malleable high-s twin", async () => {
    const { token, alice, carol } = await networkHelpers.loadFixture(fixture);
    const p = await permitFor(token, alice.address, carol.address);
    const sig = toHighS(await signPermit(alice, token, p));
    await expect(token.permit(p.owner, p.spender, p.value, p.deadline, sig.v, sig.r, sig.s))
      .to.be.revertedWithCustomError(token, "ECDSAInvalidSignatureS")
      .withArgs(sig.s);
  });

  it("reverts with EnforcedPause while paused", async () => {
    const { token, alice, carol, pauser } = await networkHelpers.loadFixture(fixture);
    const p = await permitFor(token, alice.address, carol.address);
    const sig = await signPermit(alice, token, p);
    await token.connect(pauser).pause();
    await expect(
      token.permit(p.owner, p.spender, p.value, p.deadline, sig.v, sig.r, sig.s),
    ).to.be.revertedWithCustomError(token, "EnforcedPause");
    expect(await token.nonces(alice.address)).to.equal(0n);
  });

  it("reverts with StablecoinAccountFrozen(owner) when the owner is frozen", async () => {
    const { token, alice, carol, freezer } = await networkHelpers.loadFixture(fixture);
    const p = await permitFor(token, alice.address, carol.address);
    const sig = await signPermit(alice, token, p);
    await token.connect(freezer).freeze(alice.address);
    await expect(token.permit(p.owner, p.spender, p.value, p.deadline, sig.v, sig.r, sig.s))
      .to.be.revertedWithCustomError(token, "StablecoinAccountFrozen")
      .withArgs(alice.address);
  });

  it("reverts with StablecoinAccountFrozen(spender) when the spender is frozen", async () => {
    const { token, alice, carol, freezer } = await networkHelpers.loadFixture(fixture);
    const p = await permitFor(token, alice.address, carol.address);
    const sig = await signPermit(alice, token, p);
    await token.connect(freezer).freeze(carol.address);
    await expect(token.permit(p.owner, p.spender, p.value, p.deadline, sig.v, sig.r, sig.s))
      .to.be.revertedWithCustomError(token, "StablecoinAccountFrozen")
      .withArgs(carol.address);
  });

  it("lets the permitted spender transferFrom the owner", async () => {
    const { token, alice, bob, carol } = await networkHelpers.loadFixture(fixture);
    const p = await permitFor(token, alice.address, carol.address);
    const sig = await signPermit(alice, token, p);
    await token.permit(p.owner, p.spender, p.value, p.deadline, sig.v, sig.r, sig.s);
    await expect(token.connect(carol).transferFrom(alice.address, bob.address, 123n))
      .to.emit(token, "Transfer")
      .withArgs(alice.address, bob.address, 123n);
  });
});
