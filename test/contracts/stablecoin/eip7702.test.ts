import { expect } from "chai";
import { concat, Wallet } from "ethers";
import { network } from "hardhat";

import {
  randomNonce,
  signCancelAuthorization,
  signTransferWithAuthorization,
  type TransferAuthorization,
} from "../../helpers/eip712.ts";
import { deployStablecoin, INITIAL_BALANCE, ONE } from "../../helpers/stablecoin.ts";

const connection = await network.create();
const { ethers, networkHelpers } = connection;

const MAX_UINT = 2n ** 256n - 1n;

/**
 * The token's fixture plus an EOA (a fresh key) that has delegated its code to a contract without
 * `isValidSignature`, through a real EIP-7702 (type-4) transaction, and holds tokens.
 */
async function fixture() {
  const base = await deployStablecoin(connection);
  const delegate = await ethers.deployContract("EIP7702DelegateMock");
  const delegateAddress = await delegate.getAddress();
  const eoa = Wallet.createRandom().connect(ethers.provider);
  await (await base.admin.sendTransaction({ to: eoa.address, value: 10n ** 18n })).wait();
  await base.token.connect(base.minter).mint(eoa.address, INITIAL_BALANCE);
  // The EOA sends its own type-4 transaction: its nonce moves first, so the authorization names the next one.
  const authorization = await eoa.authorize({
    address: delegateAddress,
    nonce: (await eoa.getNonce()) + 1,
    chainId: (await ethers.provider.getNetwork()).chainId,
  });
  // The delegate has no fallback: the transaction calls one of its functions on the EOA itself.
  const data = delegate.interface.encodeFunctionData("whoAmI");
  await (
    await eoa.sendTransaction({
      type: 4,
      to: eoa.address,
      data,
      authorizationList: [authorization],
      gasLimit: 100_000n,
    })
  ).wait();
  return { ...base, eoa, delegateAddress };
}

const authorizationFrom = (from: string, to: string, value: bigint): TransferAuthorization => ({
  from,
  to,
  value,
  validAfter: 0n,
  validBefore: MAX_UINT,
  nonce: randomNonce(),
});

describe("Stablecoin EIP-3009 from an EOA delegated under EIP-7702", () => {
  it("runs on a chain where the EOA now has delegation code and no ERC-1271", async () => {
    const { eoa, delegateAddress } = await networkHelpers.loadFixture(fixture);
    expect((await ethers.provider.getCode(eoa.address)).toLowerCase()).to.equal(
      concat(["0xef0100", delegateAddress]).toLowerCase(),
    );
    const asDelegate = await ethers.getContractAt("EIP7702DelegateMock", eoa.address);
    expect(await asDelegate.whoAmI()).to.equal(eoa.address);
  });

  it("accepts the EOA's own ECDSA signature on transferWithAuthorization although it has code", async () => {
    const { token, eoa, bob, relayer } = await networkHelpers.loadFixture(fixture);
    const auth = authorizationFrom(eoa.address, bob.address, 3n * ONE);
    const sig = await signTransferWithAuthorization(eoa, token, auth);
    const tx = token
      .connect(relayer)
      .getFunction("transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)")(
      auth.from,
      auth.to,
      auth.value,
      auth.validAfter,
      auth.validBefore,
      auth.nonce,
      sig.signature,
    );
    await expect(tx).to.emit(token, "AuthorizationUsed").withArgs(eoa.address, auth.nonce);
    await expect(tx).to.changeTokenBalances(ethers, token, [eoa.address, bob.address], [-3n * ONE, 3n * ONE]);
  });

  it("accepts the v, r, s form and lets the EOA cancel an authorization", async () => {
    const { token, eoa, bob, relayer } = await networkHelpers.loadFixture(fixture);
    const auth = authorizationFrom(eoa.address, bob.address, ONE);
    const sig = await signTransferWithAuthorization(eoa, token, auth);
    await expect(
      token
        .connect(relayer)
        .getFunction(
          "transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)",
        )(auth.from, auth.to, auth.value, auth.validAfter, auth.validBefore, auth.nonce, sig.v, sig.r, sig.s),
    ).to.changeTokenBalances(ethers, token, [eoa.address, bob.address], [-ONE, ONE]);

    const nonce = randomNonce();
    const cancel = await signCancelAuthorization(eoa, token, { authorizer: eoa.address, nonce });
    await expect(
      token.connect(relayer).getFunction("cancelAuthorization(address,bytes32,bytes)")(
        eoa.address,
        nonce,
        cancel.signature,
      ),
    )
      .to.emit(token, "AuthorizationCanceled")
      .withArgs(eoa.address, nonce);
  });

  it("still refuses another key's signature for the delegated EOA with StablecoinInvalidSignature", async () => {
    const { token, eoa, alice, bob, relayer } = await networkHelpers.loadFixture(fixture);
    const auth = authorizationFrom(eoa.address, bob.address, ONE);
    const sig = await signTransferWithAuthorization(alice, token, auth);
    await expect(
      token
        .connect(relayer)
        .getFunction("transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)")(
        auth.from,
        auth.to,
        auth.value,
        auth.validAfter,
        auth.validBefore,
        auth.nonce,
        sig.signature,
      ),
    ).to.be.revertedWithCustomError(token, "StablecoinInvalidSignature");
  });
});
