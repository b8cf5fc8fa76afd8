import { expect } from "chai";
import type { Signer } from "ethers";
import { network } from "hardhat";

import {
  randomNonce,
  signCancelAuthorization,
  signReceiveWithAuthorization,
  signTransferWithAuthorization,
  toHighS,
  type SplitAndPackedSignature,
  type TransferAuthorization,
} from "../../helpers/eip712.ts";
import { deployStablecoin, INITIAL_BALANCE, ONE } from "../../helpers/stablecoin.ts";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const { time } = networkHelpers;

const TRANSFER_VRS = "transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)";
const TRANSFER_BYTES = "transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)";
const RECEIVE_VRS = "receiveWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)";
const RECEIVE_BYTES = "receiveWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)";
const CANCEL_VRS = "cancelAuthorization(address,bytes32,uint8,bytes32,bytes32)";
const CANCEL_BYTES = "cancelAuthorization(address,bytes32,bytes)";

type Kind = "transfer" | "receive";
type Form = "vrs" | "bytes";
type Token = Awaited<ReturnType<typeof deployStablecoin>>["token"];

const fixture = () => deployStablecoin(connection);

async function fixtureWithWallets() {
  const base = await fixture();
  const { token, alice, bob, minter } = base;
  const wallet = await ethers.deployContract("ERC1271WalletMock", [alice.address]);
  const strangersWallet = await ethers.deployContract("ERC1271WalletMock", [bob.address]);
  const rejectingWallet = await ethers.deployContract("ERC1271RejectingWalletMock");
  for (const w of [wallet, strangersWallet, rejectingWallet]) {
    await token.connect(minter).mint(await w.getAddress(), INITIAL_BALANCE);
  }
  return { ...base, wallet, strangersWallet, rejectingWallet };
}

function sign(kind: Kind, signer: Signer, token: Token, auth: TransferAuthorization) {
  return kind === "transfer"
    ? signTransferWithAuthorization(signer, token, auth)
    : signReceiveWithAuthorization(signer, token, auth);
}

function submit(
  kind: Kind,
  form: Form,
  token: Token,
  caller: Signer,
  auth: TransferAuthorization,
  sig: SplitAndPackedSignature,
) {
  const head = [auth.from, auth.to, auth.value, auth.validAfter, auth.validBefore, auth.nonce] as const;
  const c = token.connect(caller);
  if (kind === "transfer") {
    return form === "vrs"
      ? c.getFunction(TRANSFER_VRS)(...head, sig.v, sig.r, sig.s)
      : c.getFunction(TRANSFER_BYTES)(...head, sig.signature);
  }
  return form === "vrs"
    ? c.getFunction(RECEIVE_VRS)(...head, sig.v, sig.r, sig.s)
    : c.getFunction(RECEIVE_BYTES)(...head, sig.signature);
}

function cancel(
  form: Form,
  token: Token,
  caller: Signer,
  authorizer: string,
  nonce: string,
  sig: SplitAndPackedSignature,
) {
  const c = token.connect(caller);
  return form === "vrs"
    ? c.getFunction(CANCEL_VRS)(authorizer, nonce, sig.v, sig.r, sig.s)
    : c.getFunction(CANCEL_BYTES)(authorizer, nonce, sig.signature);
}

async function authorization(from: string, to: string, value = ONE): Promise<TransferAuthorization> {
  const now = BigInt(await time.latest());
  return { from, to, value, validAfter: 0n, validBefore: now + 3600n, nonce: randomNonce() };
}

describe("Stablecoin EIP-3009 type hashes", () => {
  it("are exactly EIP-3009's (as USDC)", async () => {
    const { token } = await networkHelpers.loadFixture(fixture);
    expect(await token.TRANSFER_WITH_AUTHORIZATION_TYPEHASH()).to.equal(
      ethers.id(
        "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)",
      ),
    );
    expect(await token.RECEIVE_WITH_AUTHORIZATION_TYPEHASH()).to.equal(
      ethers.id(
        "ReceiveWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)",
      ),
    );
    expect(await token.CANCEL_AUTHORIZATION_TYPEHASH()).to.equal(
      ethers.id("CancelAuthorization(address authorizer,bytes32 nonce)"),
    );
  });
});

for (const kind of ["transfer", "receive"] as const) {
  const fn = `${kind}WithAuthorization`;
  for (const form of ["vrs", "bytes"] as const) {
    describe(`Stablecoin.${fn} (${form === "vrs" ? "v, r, s" : "packed bytes"} signature)`, () => {
      /** transferWithAuthorization is relayed by a third party; receiveWithAuthorization only by the payee. */
      const callerOf = (f: Awaited<ReturnType<typeof fixture>>, to: Signer) => (kind === "transfer" ? f.relayer : to);

      it("moves value from the signer, marks the nonce used and emits AuthorizationUsed then Transfer", async () => {
        const f = await networkHelpers.loadFixture(fixture);
        const { token, alice, bob } = f;
        const auth = await authorization(alice.address, bob.address, 7n * ONE);
        const sig = await sign(kind, alice, token, auth);
        expect(await token.authorizationState(alice.address, auth.nonce)).to.equal(false);
        const tx = submit(kind, form, token, callerOf(f, bob), auth, sig);
        await expect(tx).to.emit(token, "AuthorizationUsed").withArgs(alice.address, auth.nonce);
        await expect(tx)
          .to.emit(token, "Transfer")
          .withArgs(alice.address, bob.address, 7n * ONE);
        await expect(tx).to.changeTokenBalances(ethers, token, [alice, bob], [-7n * ONE, 7n * ONE]);
        expect(await token.authorizationState(alice.address, auth.nonce)).to.equal(true);
      });

      it("accepts the last second before validBefore and the first second after validAfter", async () => {
        const f = await networkHelpers.loadFixture(fixture);
        const { token, alice, bob } = f;
        const t = BigInt(await time.latest()) + 100n;
        const auth = { ...(await authorization(alice.address, bob.address)), validAfter: t - 1n, validBefore: t + 1n };
        const sig = await sign(kind, alice, token, auth);
        await time.setNextBlockTimestamp(t);
        await expect(submit(kind, form, token, callerOf(f, bob), auth, sig))
          .to.emit(token, "AuthorizationUsed")
          .withArgs(alice.address, auth.nonce);
      });

      it("reverts with StablecoinInvalidSignature when signed by someone other than from", async () => {
        const f = await networkHelpers.loadFixture(fixture);
        const { token, alice, bob, carol } = f;
        const auth = await authorization(alice.address, bob.address);
        const sig = await sign(kind, carol, token, auth);
        await expect(submit(kind, form, token, callerOf(f, bob), auth, sig)).to.be.revertedWithCustomError(
          token,
          "StablecoinInvalidSignature",
        );
        expect(await token.authorizationState(alice.address, auth.nonce)).to.equal(false);
      });

      it("reverts with StablecoinInvalidSignature when a signed field is changed", async () => {
        const f = await networkHelpers.loadFixture(fixture);
        const { token, alice, bob } = f;
        const auth = await authorization(alice.address, bob.address);
        const sig = await sign(kind, alice, token, auth);
        await expect(
          submit(kind, form, token, callerOf(f, bob), { ...auth, value: auth.value + 1n }, sig),
        ).to.be.revertedWithCustomError(token, "StablecoinInvalidSignature");
      });

      it("reverts with StablecoinInvalidSignature for a signature of the other EIP-3009 type", async () => {
        const f = await networkHelpers.loadFixture(fixture);
        const { token, alice, bob } = f;
        const auth = await authorization(alice.address, bob.address);
        const sig = await sign(kind === "transfer" ? "receive" : "transfer", alice, token, auth);
        await expect(submit(kind, form, token, callerOf(f, bob), auth, sig)).to.be.revertedWithCustomError(
          token,
          "StablecoinInvalidSignature",
        );
      });

      it("reverts with StablecoinInvalidSignature for the malleable high-s twin of a valid signature", async () => {
        const f = await networkHelpers.loadFixture(fixture);
        const { token, alice, bob } = f;
        const auth = await authorization(alice.address, bob.address);
        const sig = toHighS(await sign(kind, alice, token, auth));
        await expect(submit(kind, form, token, callerOf(f, bob), auth, sig)).to.be.revertedWithCustomError(
          token,
          "StablecoinInvalidSignature",
        );
      });

      it("reverts with StablecoinAuthorizationExpired(validBefore) at and after validBefore", async () => {
        const f = await networkHelpers.loadFixture(fixture);
        const { token, alice, bob } = f;
        const t = BigInt(await time.latest()) + 100n;
        const auth = { ...(await authorization(alice.address, bob.address)), validBefore: t };
        const sig = await sign(kind, alice, token, auth);
        await time.setNextBlockTimestamp(t);
        await expect(submit(kind, form, token, callerOf(f, bob), auth, sig))
          .to.be.revertedWithCustomError(token, "StablecoinAuthorizationExpired")
          .withArgs(t);
        await time.increase(1000);
        await expect(submit(kind, form, token, callerOf(f, bob), auth, sig))
          .to.be.revertedWithCustomError(token, "StablecoinAuthorizationExpired")
          .withArgs(t);
      });

      it("reverts with StablecoinAuthorizationNotYetValid(validAfter) at and before validAfter", async () => {
        const f = await networkHelpers.loadFixture(fixture);
        const { token, alice, bob } = f;
        const t = BigInt(await time.latest()) + 100n;
        const auth = { ...(await authorization(alice.address, bob.address)), validAfter: t, validBefore: t + 3600n };
        const sig = await sign(kind, alice, token, auth);
        await expect(submit(kind, form, token, callerOf(f, bob), auth, sig))
          .to.be.revertedWithCustomError(token, "StablecoinAuthorizationNotYetValid")
          .withArgs(t);
        await time.setNextBlockTimestamp(t);
        await expect(submit(kind, form, token, callerOf(f, bob), auth, sig))
          .to.be.revertedWithCustomError(token, "StablecoinAuthorizationNotYetValid")
          .withArgs(t);
      });

      it("reverts with StablecoinAuthorizationUsed(from, nonce) when the nonce is reused", async () => {
        const f = await networkHelpers.loadFixture(fixture);
        const { token, alice, bob } = f;
        const auth = await authorization(alice.address, bob.address);
        const sig = await sign(kind, alice, token, auth);
        await submit(kind, form, token, callerOf(f, bob), auth, sig);
        await expect(submit(kind, form, token, callerOf(f, bob), auth, sig))
          .to.be.revertedWithCustomError(token, "StablecoinAuthorizationUsed")
          .withArgs(alice.address, auth.nonce);
      });

      it("reverts with StablecoinAuthorizationUsed(from, nonce) when the nonce was canceled", async () => {
        const f = await networkHelpers.loadFixture(fixture);
        const { token, alice, bob } = f;
        const auth = await authorization(alice.address, bob.address);
        const sig = await sign(kind, alice, token, auth);
        const cancelSig = await signCancelAuthorization(alice, token, { authorizer: alice.address, nonce: auth.nonce });
        await cancel(form, token, bob, alice.address, auth.nonce, cancelSig);
        await expect(submit(kind, form, token, callerOf(f, bob), auth, sig))
          .to.be.revertedWithCustomError(token, "StablecoinAuthorizationUsed")
          .withArgs(alice.address, auth.nonce);
      });

      it("accepts an ERC-1271 wallet's signature made by the wallet's owner", async () => {
        const f = await networkHelpers.loadFixture(fixtureWithWallets);
        const { token, alice, bob, wallet } = f;
        const walletAddress = await wallet.getAddress();
        const auth = await authorization(walletAddress, bob.address);
        const sig = await sign(kind, alice, token, auth);
        const tx = submit(kind, form, token, callerOf(f, bob), auth, sig);
        await expect(tx).to.emit(token, "AuthorizationUsed").withArgs(walletAddress, auth.nonce);
        await expect(tx).to.changeTokenBalances(ethers, token, [walletAddress, bob.address], [-ONE, ONE]);
      });

      it("reverts with StablecoinInvalidSignature when the ERC-1271 wallet does not recognise the signer", async () => {
        const f = await networkHelpers.loadFixture(fixtureWithWallets);
        const { token, alice, bob, strangersWallet } = f;
        const auth = await authorization(await strangersWallet.getAddress(), bob.address);
        const sig = await sign(kind, alice, token, auth);
        await expect(submit(kind, form, token, callerOf(f, bob), auth, sig)).to.be.revertedWithCustomError(
          token,
          "StablecoinInvalidSignature",
        );
      });

      it("reverts with StablecoinInvalidSignature when the ERC-1271 wallet says no", async () => {
        const f = await networkHelpers.loadFixture(fixtureWithWallets);
        const { token, alice, bob, rejectingWallet } = f;
        const auth = await authorization(await rejectingWallet.getAddress(), bob.address);
        const sig = await sign(kind, alice, token, auth);
        await expect(submit(kind, form, token, callerOf(f, bob), auth, sig)).to.be.revertedWithCustomError(
          token,
          "StablecoinInvalidSignature",
        );
      });

      it("reverts with EnforcedPause while paused and leaves the nonce unused", async () => {
        const f = await networkHelpers.loadFixture(fixture);
        const { token, alice, bob, pauser } = f;
        const auth = await authorization(alice.address, bob.address);
        const sig = await sign(kind, alice, token, auth);
        await token.connect(pauser).pause();
        await expect(submit(kind, form, token, callerOf(f, bob), auth, sig)).to.be.revertedWithCustomError(
          token,
          "EnforcedPause",
        );
        expect(await token.authorizationState(alice.address, auth.nonce)).to.equal(false);
      });

      it("reverts with StablecoinAccountFrozen(from) when the payer is frozen", async () => {
        const f = await networkHelpers.loadFixture(fixture);
        const { token, alice, bob, freezer } = f;
        const auth = await authorization(alice.address, bob.address);
        const sig = await sign(kind, alice, token, auth);
        await token.connect(freezer).freeze(alice.address);
        await expect(submit(kind, form, token, callerOf(f, bob), auth, sig))
          .to.be.revertedWithCustomError(token, "StablecoinAccountFrozen")
          .withArgs(alice.address);
      });

      it("reverts with StablecoinAccountFrozen(to) when the payee is frozen", async () => {
        const f = await networkHelpers.loadFixture(fixture);
        const { token, alice, bob, freezer } = f;
        const auth = await authorization(alice.address, bob.address);
        const sig = await sign(kind, alice, token, auth);
        await token.connect(freezer).freeze(bob.address);
        await expect(submit(kind, form, token, callerOf(f, bob), auth, sig))
          .to.be.revertedWithCustomError(token, "StablecoinAccountFrozen")
          .withArgs(bob.address);
      });

      it("reverts with ERC20InsufficientBalance(from, balance, value) when the payer is short", async () => {
        const f = await networkHelpers.loadFixture(fixture);
        const { token, carol, bob } = f;
        const auth = await authorization(carol.address, bob.address, 5n);
        const sig = await sign(kind, carol, token, auth);
        await expect(submit(kind, form, token, callerOf(f, bob), auth, sig))
          .to.be.revertedWithCustomError(token, "ERC20InsufficientBalance")
          .withArgs(carol.address, 0n, 5n);
      });

      if (form === "bytes") {
        it("reverts with StablecoinInvalidSignature for a signature that is not 65 bytes", async () => {
          const f = await networkHelpers.loadFixture(fixture);
          const { token, alice, bob } = f;
          const auth = await authorization(alice.address, bob.address);
          const sig = await sign(kind, alice, token, auth);
          const short = { ...sig, signature: sig.signature.slice(0, 2 + 64 * 2) };
          await expect(submit(kind, form, token, callerOf(f, bob), auth, short)).to.be.revertedWithCustomError(
            token,
            "StablecoinInvalidSignature",
          );
        });
      }

      it("reverts with StablecoinInvalidSignature for from = the zero address (no signature recovers to it)", async () => {
        const f = await networkHelpers.loadFixture(fixture);
        const { token, alice, bob } = f;
        const auth = await authorization(ethers.ZeroAddress, bob.address);
        const sig = await sign(kind, alice, token, auth);
        const garbage = { v: 27, r: ethers.ZeroHash, s: ethers.ZeroHash, signature: "0x" + "00".repeat(64) + "1b" };
        for (const s of [sig, garbage]) {
          await expect(submit(kind, form, token, callerOf(f, bob), auth, s)).to.be.revertedWithCustomError(
            token,
            "StablecoinInvalidSignature",
          );
        }
      });

      if (kind === "transfer") {
        it("reverts with StablecoinAccountFrozen(caller) when the relayer is frozen", async () => {
          const f = await networkHelpers.loadFixture(fixture);
          const { token, alice, bob, relayer, freezer } = f;
          const auth = await authorization(alice.address, bob.address);
          const sig = await sign(kind, alice, token, auth);
          await token.connect(freezer).freeze(relayer.address);
          await expect(submit(kind, form, token, relayer, auth, sig))
            .to.be.revertedWithCustomError(token, "StablecoinAccountFrozen")
            .withArgs(relayer.address);
        });

        it("reverts with ERC20InvalidReceiver(0) when to is the zero address", async () => {
          const f = await networkHelpers.loadFixture(fixture);
          const { token, alice, relayer } = f;
          const auth = await authorization(alice.address, ethers.ZeroAddress);
          const sig = await sign(kind, alice, token, auth);
          await expect(submit(kind, form, token, relayer, auth, sig))
            .to.be.revertedWithCustomError(token, "ERC20InvalidReceiver")
            .withArgs(ethers.ZeroAddress);
        });

        it("lets anyone relay: the payee need not be the caller", async () => {
          const f = await networkHelpers.loadFixture(fixture);
          const { token, alice, bob, carol } = f;
          const auth = await authorization(alice.address, bob.address);
          const sig = await sign(kind, alice, token, auth);
          await expect(submit(kind, form, token, carol, auth, sig)).to.changeTokenBalance(ethers, token, bob, ONE);
        });
      } else {
        it("reverts with StablecoinCallerNotPayee(caller, to) when someone other than the payee submits it", async () => {
          const f = await networkHelpers.loadFixture(fixture);
          const { token, alice, bob, relayer } = f;
          const auth = await authorization(alice.address, bob.address);
          const sig = await sign(kind, alice, token, auth);
          await expect(submit(kind, form, token, relayer, auth, sig))
            .to.be.revertedWithCustomError(token, "StablecoinCallerNotPayee")
            .withArgs(relayer.address, bob.address);
          expect(await token.authorizationState(alice.address, auth.nonce)).to.equal(false);
        });
      }
    });
  }
}

for (const form of ["vrs", "bytes"] as const) {
  describe(`Stablecoin.cancelAuthorization (${form === "vrs" ? "v, r, s" : "packed bytes"} signature)`, () => {
    it("marks the nonce used and emits AuthorizationCanceled(authorizer, nonce)", async () => {
      const { token, alice, relayer } = await networkHelpers.loadFixture(fixture);
      const nonce = randomNonce();
      const sig = await signCancelAuthorization(alice, token, { authorizer: alice.address, nonce });
      await expect(cancel(form, token, relayer, alice.address, nonce, sig))
        .to.emit(token, "AuthorizationCanceled")
        .withArgs(alice.address, nonce);
      expect(await token.authorizationState(alice.address, nonce)).to.equal(true);
    });

    it("reverts with StablecoinAuthorizationUsed(authorizer, nonce) when already canceled", async () => {
      const { token, alice, relayer } = await networkHelpers.loadFixture(fixture);
      const nonce = randomNonce();
      const sig = await signCancelAuthorization(alice, token, { authorizer: alice.address, nonce });
      await cancel(form, token, relayer, alice.address, nonce, sig);
      await expect(cancel(form, token, relayer, alice.address, nonce, sig))
        .to.be.revertedWithCustomError(token, "StablecoinAuthorizationUsed")
        .withArgs(alice.address, nonce);
    });

    it("reverts with StablecoinAuthorizationUsed(authorizer, nonce) when the authorization was already used", async () => {
      const { token, alice, bob, relayer } = await networkHelpers.loadFixture(fixture);
      const auth = await authorization(alice.address, bob.address);
      await submit("transfer", form, token, relayer, auth, await sign("transfer", alice, token, auth));
      const sig = await signCancelAuthorization(alice, token, { authorizer: alice.address, nonce: auth.nonce });
      await expect(cancel(form, token, relayer, alice.address, auth.nonce, sig))
        .to.be.revertedWithCustomError(token, "StablecoinAuthorizationUsed")
        .withArgs(alice.address, auth.nonce);
    });

    it("reverts with StablecoinInvalidSignature when signed by someone other than the authorizer", async () => {
      const { token, alice, bob, relayer } = await networkHelpers.loadFixture(fixture);
      const nonce = randomNonce();
      const sig = await signCancelAuthorization(bob, token, { authorizer: alice.address, nonce });
      await expect(cancel(form, token, relayer, alice.address, nonce, sig)).to.be.revertedWithCustomError(
        token,
        "StablecoinInvalidSignature",
      );
      expect(await token.authorizationState(alice.address, nonce)).to.equal(false);
    });

    it("reverts with StablecoinInvalidSignature for a high-s signature", async () => {
      const { token, alice, relayer } = await networkHelpers.loadFixture(fixture);
      const nonce = randomNonce();
      const sig = toHighS(await signCancelAuthorization(alice, token, { authorizer: alice.address, nonce }));
      await expect(cancel(form, token, relayer, alice.address, nonce, sig)).to.be.revertedWithCustomError(
        token,
        "StablecoinInvalidSignature",
      );
    });

    it("reverts with EnforcedPause while paused", async () => {
      const { token, alice, relayer, pauser } = await networkHelpers.loadFixture(fixture);
      const nonce = randomNonce();
      const sig = await signCancelAuthorization(alice, token, { authorizer: alice.address, nonce });
      await token.connect(pauser).pause();
      await expect(cancel(form, token, relayer, alice.address, nonce, sig)).to.be.revertedWithCustomError(
        token,
        "EnforcedPause",
      );
    });

    it("still lets a frozen authorizer cancel (it only narrows what it has signed)", async () => {
      const { token, alice, relayer, freezer } = await networkHelpers.loadFixture(fixture);
      const nonce = randomNonce();
      const sig = await signCancelAuthorization(alice, token, { authorizer: alice.address, nonce });
      await token.connect(freezer).freeze(alice.address);
      await expect(cancel(form, token, relayer, alice.address, nonce, sig))
        .to.emit(token, "AuthorizationCanceled")
        .withArgs(alice.address, nonce);
    });

    it("accepts an ERC-1271 wallet's cancellation signed by its owner and rejects a wallet that says no", async () => {
      const { token, alice, relayer, wallet, rejectingWallet } = await networkHelpers.loadFixture(fixtureWithWallets);
      const nonce = randomNonce();
      const walletAddress = await wallet.getAddress();
      const sig = await signCancelAuthorization(alice, token, { authorizer: walletAddress, nonce });
      await expect(cancel(form, token, relayer, walletAddress, nonce, sig))
        .to.emit(token, "AuthorizationCanceled")
        .withArgs(walletAddress, nonce);
      const rejecting = await rejectingWallet.getAddress();
      const sig2 = await signCancelAuthorization(alice, token, { authorizer: rejecting, nonce });
      await expect(cancel(form, token, relayer, rejecting, nonce, sig2)).to.be.revertedWithCustomError(
        token,
        "StablecoinInvalidSignature",
      );
    });
  });
}
