import { expect } from "chai";
import { network } from "hardhat";

import {
  EIP712_TYPES,
  randomNonce,
  signTransferWithAuthorization,
  tokenDomain,
  toHighS,
} from "../../helpers/eip712.ts";
import { deployStablecoin, ONE } from "../../helpers/stablecoin.ts";

const connection = await network.create();
const { ethers, networkHelpers } = connection;

const fixture = () => deployStablecoin(connection);

/** The raw ecrecover precompile, which (unlike OZ's ECDSA) accepts high-s signatures. */
async function ecrecover(digest: string, v: number, r: string, s: string): Promise<string> {
  const data = ethers.AbiCoder.defaultAbiCoder().encode(["bytes32", "uint8", "bytes32", "bytes32"], [digest, v, r, s]);
  const out = await ethers.provider.call({ to: "0x0000000000000000000000000000000000000001", data });
  return ethers.getAddress(ethers.dataSlice(out, 12));
}

describe("test/helpers/eip712", () => {
  it("signs over the token's own domain: the split and packed forms agree and recover to the signer", async () => {
    const { token, alice, bob } = await networkHelpers.loadFixture(fixture);
    const auth = {
      from: alice.address,
      to: bob.address,
      value: ONE,
      validAfter: 0n,
      validBefore: 1n,
      nonce: randomNonce(),
    };
    const sig = await signTransferWithAuthorization(alice, token, auth);
    const digest = ethers.TypedDataEncoder.hash(await tokenDomain(token), EIP712_TYPES.TransferWithAuthorization, auth);
    expect(ethers.recoverAddress(digest, sig.signature)).to.equal(alice.address);
    expect(sig.signature).to.equal(ethers.concat([sig.r, sig.s, ethers.toBeHex(sig.v, 1)]));
    expect(ethers.dataLength(sig.signature)).to.equal(65);
  });

  it("toHighS yields the malleable twin: ecrecover still returns the signer, so only the low-s rule rejects it", async () => {
    const { token, alice, bob } = await networkHelpers.loadFixture(fixture);
    const auth = {
      from: alice.address,
      to: bob.address,
      value: ONE,
      validAfter: 0n,
      validBefore: 1n,
      nonce: randomNonce(),
    };
    const sig = await signTransferWithAuthorization(alice, token, auth);
    const high = toHighS(sig);
    const digest = ethers.TypedDataEncoder.hash(await tokenDomain(token), EIP712_TYPES.TransferWithAuthorization, auth);
    expect(high.s).to.not.equal(sig.s);
    expect(BigInt(high.s) > BigInt("0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0")).to.equal(
      true,
    );
    expect(await ecrecover(digest, high.v, high.r, high.s)).to.equal(alice.address);
    expect(high.signature).to.equal(ethers.concat([high.r, high.s, ethers.toBeHex(high.v, 1)]));
  });

  it("randomNonce returns distinct 32-byte values", () => {
    const a = randomNonce();
    expect(ethers.dataLength(a)).to.equal(32);
    expect(randomNonce()).to.not.equal(a);
  });
});
