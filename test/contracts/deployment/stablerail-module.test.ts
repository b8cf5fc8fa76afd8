import { expect } from "chai";
import { network } from "hardhat";

import StablerailModule from "../../../ignition/modules/Stablerail.ts";

// The deployment defaults written down here rather than
// imported from the module under test: a changed default must fail this test, not move with it.
const TOKEN_NAME = "Stablerail USD";
const TOKEN_SYMBOL = "USDR";
const TOKEN_DECIMALS = 6;
const DEFAULT_ADMIN_TRANSFER_DELAY = 3n * 24n * 60n * 60n; // three days
const DEFAULT_MINTER_ALLOWANCE = 10n ** 12n * 10n ** 6n; // a trillion tokens of 6 decimals
const DEFAULT_AUTHORIZATION_GAS_LIMIT = 200_000n;

const connection = await network.create();
const { ethers } = connection;

/** Ignition returns untyped contracts; re-attach them through the generated types. */
async function deployModule(parameters?: Record<string, Record<string, string | bigint>>) {
  const deployed = await connection.ignition.deploy(StablerailModule, {
    displayUi: false,
    ...(parameters ? { parameters } : {}),
  });
  return {
    stablecoin: await ethers.getContractAt("Stablecoin", await deployed.stablecoin.getAddress()),
    forwarder: await ethers.getContractAt("StablerailForwarder", await deployed.forwarder.getAddress()),
    escrow: await ethers.getContractAt("PaymentEscrow", await deployed.escrow.getAddress()),
    settlement: await ethers.getContractAt("Settlement", await deployed.settlement.getAddress()),
  };
}

describe("Ignition module Stablerail", () => {
  it("deploys the four contracts with their defaults and wires the roles, the minter and the forwarder", async () => {
    const [deployer] = await ethers.getSigners();
    const { stablecoin, forwarder, escrow, settlement } = await deployModule();
    const forwarderAddress = await forwarder.getAddress();

    expect(await stablecoin.name()).to.equal(TOKEN_NAME);
    expect(await stablecoin.symbol()).to.equal(TOKEN_SYMBOL);
    expect(await stablecoin.decimals()).to.equal(BigInt(TOKEN_DECIMALS));
    expect(await stablecoin.defaultAdmin()).to.equal(deployer!.address);
    expect(await stablecoin.defaultAdminDelay()).to.equal(DEFAULT_ADMIN_TRANSFER_DELAY);
    const roles = [
      await stablecoin.MINTER_ADMIN_ROLE(),
      await stablecoin.PAUSER_ROLE(),
      await stablecoin.FREEZER_ROLE(),
      await stablecoin.RESCUER_ROLE(),
    ];
    for (const role of roles) expect(await stablecoin.hasRole(role, deployer!.address), role).to.equal(true);
    expect(await stablecoin.isMinter(deployer!.address)).to.equal(true);
    expect(await stablecoin.minterAllowance(deployer!.address)).to.equal(DEFAULT_MINTER_ALLOWANCE);

    expect((await forwarder.eip712Domain())[1]).to.equal("StablerailForwarder");
    expect(await escrow.isTrustedForwarder(forwarderAddress)).to.equal(true);
    expect(await settlement.isTrustedForwarder(forwarderAddress)).to.equal(true);
    expect(await settlement.hasRole(await settlement.DEFAULT_ADMIN_ROLE(), deployer!.address)).to.equal(true);
    expect(await settlement.defaultAdmin()).to.equal(deployer!.address);
    expect(await settlement.defaultAdminDelay()).to.equal(DEFAULT_ADMIN_TRANSFER_DELAY);
    expect(await settlement.authorizationGasLimit()).to.equal(DEFAULT_AUTHORIZATION_GAS_LIMIT);
    expect(await settlement.hasRole(await settlement.PAYOUT_ROLE(), deployer!.address)).to.equal(true);
  });

  it("takes the minter, its allowance, the payout account, the admin delay and the per-item gas limit from parameters", async () => {
    const [, minter, payout] = await ethers.getSigners();
    const { stablecoin, settlement } = await deployModule({
      Stablerail: {
        minter: minter!.address,
        minterAllowance: 5n,
        payoutAccount: payout!.address,
        adminTransferDelay: 60n,
        authorizationGasLimit: 150_000n,
      },
    });
    expect(await stablecoin.minterAllowance(minter!.address)).to.equal(5n);
    expect(await stablecoin.defaultAdminDelay()).to.equal(60n);
    // One delay for both contracts that hold value: the token's admin and the treasury's.
    expect(await settlement.defaultAdminDelay()).to.equal(60n);
    expect(await settlement.authorizationGasLimit()).to.equal(150_000n);
    expect(await settlement.hasRole(await settlement.PAYOUT_ROLE(), payout!.address)).to.equal(true);
  });
});
