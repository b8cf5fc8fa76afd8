import { expect } from "chai";
import { concat, verifyTypedData } from "ethers";
import { network } from "hardhat";

import { DEFAULT_ADMIN_TRANSFER_DELAY, DEFAULT_AUTHORIZATION_GAS_LIMIT } from "../../../ignition/modules/Stablerail.ts";
import { ONE } from "../../helpers/stablecoin.ts";
import { deployEscrow } from "../escrow/escrow-fixture.ts";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const { loadFixture, time } = networkHelpers;

const FORWARD_REQUEST = {
  ForwardRequest: [
    { name: "from", type: "address" },
    { name: "to", type: "address" },
    { name: "value", type: "uint256" },
    { name: "gas", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint48" },
    { name: "data", type: "bytes" },
  ],
};

async function fixture() {
  const f = await deployEscrow(connection);
  const terms = f.makeTerms();
  await f.token.connect(f.alice).approve(f.escrowAddress, 10n * ONE);
  await f.escrow.connect(f.alice).preApprove(terms);
  const { chainId } = await ethers.provider.getNetwork();
  const domain = {
    name: "StablerailForwarder",
    version: "1",
    chainId,
    verifyingContract: await f.forwarder.getAddress(),
  };
  const settlement = await ethers.deployContract("Settlement", [
    f.admin.address,
    DEFAULT_ADMIN_TRANSFER_DELAY,
    await f.forwarder.getAddress(),
    DEFAULT_AUTHORIZATION_GAS_LIMIT,
  ]);
  return { ...f, terms, domain, settlement };
}
type Fixture = Awaited<ReturnType<typeof fixture>>;

/** A request signed by `signer` (defaults: the operator, a fresh nonce, deadline in one hour). */
async function forwardRequest(
  f: Fixture,
  data: string,
  options: { signer?: Fixture["operator"]; from?: string; nonce?: bigint; deadline?: bigint; to?: string } = {},
) {
  const signer = options.signer ?? f.operator;
  const from = options.from ?? f.operator.address;
  const message = {
    from,
    to: options.to ?? f.escrowAddress,
    value: 0n,
    gas: 500_000n,
    nonce: options.nonce ?? (await f.forwarder.nonces(from)),
    deadline: options.deadline ?? BigInt(await time.latest()) + 3600n,
    data,
  };
  const signature = await signer.signTypedData(f.domain, FORWARD_REQUEST, message);
  const { nonce, ...request } = message;
  void nonce;
  return { request: { ...request, signature }, message, signature };
}

describe("StablerailForwarder", () => {
  it("is OpenZeppelin's ERC2771Forwarder named StablerailForwarder", async () => {
    const f = await loadFixture(fixture);
    const [, name, version] = await f.forwarder.eip712Domain();
    expect([name, version]).to.deep.equal(["StablerailForwarder", "1"]);
  });

  it("relays the operator's signed authorize: the escrow sees the operator as sender", async () => {
    const f = await loadFixture(fixture);
    const data = f.escrow.interface.encodeFunctionData("authorize", [f.terms, 10n * ONE]);
    const { request } = await forwardRequest(f, data);
    await expect(f.forwarder.connect(f.stranger).execute(request))
      .to.emit(f.escrow, "PaymentAuthorized")
      .withArgs(
        await f.escrow.getPaymentId(f.terms),
        f.alice.address,
        f.merchant.address,
        f.operator.address,
        f.tokenAddress,
        10n * ONE,
        (value: unknown) => Array.isArray(value) || typeof value === "object",
      );
  });

  it("relays a Settlement payout signed by a PAYOUT_ROLE holder", async () => {
    const f = await loadFixture(fixture);
    await f.settlement.connect(f.admin).grantRole(await f.settlement.PAYOUT_ROLE(), f.operator.address);
    await f.token.connect(f.minter).mint(await f.settlement.getAddress(), ONE);
    const items = [{ merchant: f.merchant.address, amount: ONE, payoutReference: ethers.ZeroHash }];
    const data = f.settlement.interface.encodeFunctionData("payout", [ethers.id("b"), f.tokenAddress, items]);
    const { request } = await forwardRequest(f, data, { to: await f.settlement.getAddress() });
    await expect(f.forwarder.connect(f.stranger).execute(request)).to.emit(f.settlement, "PayoutBatchExecuted");
  });

  it("refuses a direct call with an operator address appended to the calldata (no sender spoofing)", async () => {
    const f = await loadFixture(fixture);
    const data = f.escrow.interface.encodeFunctionData("authorize", [f.terms, 10n * ONE]);
    const forged = concat([data, f.operator.address]);
    await expect(f.stranger.sendTransaction({ to: f.escrowAddress, data: forged }))
      .to.be.revertedWithCustomError(f.escrow, "PaymentEscrowInvalidSender")
      .withArgs(f.stranger.address, f.operator.address);
    const payoutData = f.settlement.interface.encodeFunctionData("payout", [
      ethers.id("b"),
      f.tokenAddress,
      [{ merchant: f.merchant.address, amount: 1n, payoutReference: ethers.ZeroHash }],
    ]);
    await expect(
      f.stranger.sendTransaction({ to: await f.settlement.getAddress(), data: concat([payoutData, f.admin.address]) }),
    )
      .to.be.revertedWithCustomError(f.settlement, "AccessControlUnauthorizedAccount")
      .withArgs(f.stranger.address, await f.settlement.PAYOUT_ROLE());
  });

  it("refuses a request signed by someone other than its `from` (ERC2771ForwarderInvalidSigner)", async () => {
    const f = await loadFixture(fixture);
    const data = f.escrow.interface.encodeFunctionData("authorize", [f.terms, 10n * ONE]);
    const { request } = await forwardRequest(f, data, { signer: f.stranger });
    await expect(f.forwarder.execute(request))
      .to.be.revertedWithCustomError(f.forwarder, "ERC2771ForwarderInvalidSigner")
      .withArgs(f.stranger.address, f.operator.address);
  });

  it("refuses an expired request (ERC2771ForwarderExpiredRequest)", async () => {
    const f = await loadFixture(fixture);
    const data = f.escrow.interface.encodeFunctionData("authorize", [f.terms, 10n * ONE]);
    const deadline = BigInt(await time.latest());
    const { request } = await forwardRequest(f, data, { deadline });
    await expect(f.forwarder.execute(request))
      .to.be.revertedWithCustomError(f.forwarder, "ERC2771ForwarderExpiredRequest")
      .withArgs(deadline);
  });

  it("refuses a request signed for another nonce, and a replay", async () => {
    const f = await loadFixture(fixture);
    const data = f.escrow.interface.encodeFunctionData("authorize", [f.terms, 10n * ONE]);
    const wrong = await forwardRequest(f, data, { nonce: 7n });
    const recovered = verifyTypedData(f.domain, FORWARD_REQUEST, { ...wrong.message, nonce: 0n }, wrong.signature);
    await expect(f.forwarder.execute(wrong.request))
      .to.be.revertedWithCustomError(f.forwarder, "ERC2771ForwarderInvalidSigner")
      .withArgs(recovered, f.operator.address);

    const good = await forwardRequest(f, data);
    await f.forwarder.execute(good.request);
    const replayed = verifyTypedData(f.domain, FORWARD_REQUEST, { ...good.message, nonce: 1n }, good.signature);
    await expect(f.forwarder.execute(good.request))
      .to.be.revertedWithCustomError(f.forwarder, "ERC2771ForwarderInvalidSigner")
      .withArgs(replayed, f.operator.address);
  });

  it("hands Settlement the signer as sender and the calldata without the appended address", async () => {
    const f = await loadFixture(fixture);
    const mock = await ethers.deployContract("SettlementContextMock", [
      f.admin.address,
      DEFAULT_ADMIN_TRANSFER_DELAY,
      await f.forwarder.getAddress(),
      DEFAULT_AUTHORIZATION_GAS_LIMIT,
    ]);
    // An eth_call from the forwarder's address is what the forwarder's own call looks like to Settlement.
    const call = (selectorData: string) =>
      f.forwarder.getAddress().then(async (from) =>
        ethers.provider.call({
          to: await mock.getAddress(),
          from,
          data: concat([selectorData, f.operator.address]),
        }),
      );
    const seen = mock.interface.decodeFunctionResult(
      "msgData",
      await call(mock.interface.encodeFunctionData("msgData")),
    )[0];
    expect(seen).to.equal(mock.interface.encodeFunctionData("msgData"));
    const sender = await call(mock.interface.encodeFunctionData("msgSender"));
    expect(mock.interface.decodeFunctionResult("msgSender", sender)[0]).to.equal(f.operator.address);
  });
});
