import { expect } from "chai";
import { network } from "hardhat";

import {
  ADMIN_TRANSFER_DELAY,
  deployStablecoin,
  TOKEN_DECIMALS,
  TOKEN_NAME,
  TOKEN_SYMBOL,
} from "../../helpers/stablecoin.ts";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const { time } = networkHelpers;

const fixture = () => deployStablecoin(connection);

describe("Stablecoin constructor", () => {
  it("sets name, symbol, decimals, the default admin and the admin transfer delay", async () => {
    const { token, admin } = await networkHelpers.loadFixture(fixture);
    expect(await token.name()).to.equal(TOKEN_NAME);
    expect(await token.symbol()).to.equal(TOKEN_SYMBOL);
    expect(await token.decimals()).to.equal(TOKEN_DECIMALS);
    expect(await token.defaultAdmin()).to.equal(admin.address);
    expect(await token.hasRole(await token.DEFAULT_ADMIN_ROLE(), admin.address)).to.equal(true);
    expect(await token.defaultAdminDelay()).to.equal(ADMIN_TRANSFER_DELAY);
    expect(await token.paused()).to.equal(false);
  });

  it("takes the decimals from its argument", async () => {
    const { admin } = await networkHelpers.loadFixture(fixture);
    const token = await ethers.deployContract("Stablecoin", ["Eighteen", "E18", 18, admin.address, 0]);
    expect(await token.decimals()).to.equal(18n);
  });

  it("uses the token name and version 1 as its EIP-712 domain", async () => {
    const { token } = await networkHelpers.loadFixture(fixture);
    const [, name, version, chainId, verifyingContract] = await token.eip712Domain();
    expect(name).to.equal(TOKEN_NAME);
    expect(version).to.equal("1");
    expect(verifyingContract).to.equal(await token.getAddress());
    expect(await token.DOMAIN_SEPARATOR()).to.equal(
      ethers.TypedDataEncoder.hashDomain({ name, version, chainId, verifyingContract }),
    );
  });

  it("grants no role other than the default admin", async () => {
    const { admin } = await networkHelpers.loadFixture(fixture);
    const token = await ethers.deployContract("Stablecoin", ["T", "T", 6, admin.address, 0]);
    for (const role of [
      await token.MINTER_ADMIN_ROLE(),
      await token.PAUSER_ROLE(),
      await token.FREEZER_ROLE(),
      await token.RESCUER_ROLE(),
    ]) {
      expect(await token.hasRole(role, admin.address)).to.equal(false);
    }
  });

  it("reverts with AccessControlInvalidDefaultAdmin(0) for a zero admin", async () => {
    const { token } = await networkHelpers.loadFixture(fixture);
    await expect(ethers.deployContract("Stablecoin", ["T", "T", 6, ethers.ZeroAddress, 0]))
      .to.be.revertedWithCustomError(token, "AccessControlInvalidDefaultAdmin")
      .withArgs(ethers.ZeroAddress);
  });

  it("names its roles by the keccak256 of their names", async () => {
    const { token } = await networkHelpers.loadFixture(fixture);
    expect(await token.MINTER_ADMIN_ROLE()).to.equal(ethers.id("MINTER_ADMIN_ROLE"));
    expect(await token.PAUSER_ROLE()).to.equal(ethers.id("PAUSER_ROLE"));
    expect(await token.FREEZER_ROLE()).to.equal(ethers.id("FREEZER_ROLE"));
    expect(await token.RESCUER_ROLE()).to.equal(ethers.id("RESCUER_ROLE"));
  });

  it("supports the ERC-165 interfaces of AccessControl and AccessControlDefaultAdminRules", async () => {
    const { token } = await networkHelpers.loadFixture(fixture);
    expect(await token.supportsInterface("0x7965db0b")).to.equal(true); // IAccessControl
    expect(await token.supportsInterface("0x31498786")).to.equal(true); // IAccessControlDefaultAdminRules
    expect(await token.supportsInterface("0xffffffff")).to.equal(false);
  });
});

describe("Stablecoin roles", () => {
  it("lets the default admin grant and revoke a role, emitting RoleGranted and RoleRevoked", async () => {
    const { token, admin, carol } = await networkHelpers.loadFixture(fixture);
    const role = await token.PAUSER_ROLE();
    await expect(token.connect(admin).grantRole(role, carol.address))
      .to.emit(token, "RoleGranted")
      .withArgs(role, carol.address, admin.address);
    await expect(token.connect(admin).revokeRole(role, carol.address))
      .to.emit(token, "RoleRevoked")
      .withArgs(role, carol.address, admin.address);
  });

  it("reverts with AccessControlUnauthorizedAccount(caller, DEFAULT_ADMIN_ROLE) when a non-admin grants", async () => {
    const { token, carol } = await networkHelpers.loadFixture(fixture);
    await expect(token.connect(carol).grantRole(await token.PAUSER_ROLE(), carol.address))
      .to.be.revertedWithCustomError(token, "AccessControlUnauthorizedAccount")
      .withArgs(carol.address, await token.DEFAULT_ADMIN_ROLE());
  });

  it("reverts with AccessControlEnforcedDefaultAdminRules when granting the default admin role directly", async () => {
    const { token, admin, carol } = await networkHelpers.loadFixture(fixture);
    await expect(
      token.connect(admin).grantRole(await token.DEFAULT_ADMIN_ROLE(), carol.address),
    ).to.be.revertedWithCustomError(token, "AccessControlEnforcedDefaultAdminRules");
  });
});

describe("Stablecoin two-step default admin transfer", () => {
  it("begins a transfer that takes effect only after the delay, then the new admin accepts", async () => {
    const { token, admin, carol } = await networkHelpers.loadFixture(fixture);
    const adminRole = await token.DEFAULT_ADMIN_ROLE();
    const tx = await token.connect(admin).beginDefaultAdminTransfer(carol.address);
    const schedule = BigInt(await time.latest()) + ADMIN_TRANSFER_DELAY;
    await expect(tx).to.emit(token, "DefaultAdminTransferScheduled").withArgs(carol.address, schedule);
    expect(await token.pendingDefaultAdmin()).to.deep.equal([carol.address, schedule]);

    await expect(token.connect(carol).acceptDefaultAdminTransfer())
      .to.be.revertedWithCustomError(token, "AccessControlEnforcedDefaultAdminDelay")
      .withArgs(schedule);

    await time.increaseTo(schedule + 1n);
    await expect(token.connect(carol).acceptDefaultAdminTransfer())
      .to.emit(token, "RoleRevoked")
      .withArgs(adminRole, admin.address, carol.address)
      .and.to.emit(token, "RoleGranted")
      .withArgs(adminRole, carol.address, carol.address);
    expect(await token.defaultAdmin()).to.equal(carol.address);
    expect(await token.hasRole(adminRole, admin.address)).to.equal(false);
  });

  it("reverts with AccessControlInvalidDefaultAdmin(caller) when someone other than the pending admin accepts", async () => {
    const { token, admin, carol, bob } = await networkHelpers.loadFixture(fixture);
    await token.connect(admin).beginDefaultAdminTransfer(carol.address);
    await time.increase(ADMIN_TRANSFER_DELAY + 1n);
    await expect(token.connect(bob).acceptDefaultAdminTransfer())
      .to.be.revertedWithCustomError(token, "AccessControlInvalidDefaultAdmin")
      .withArgs(bob.address);
  });

  it("lets the admin cancel a pending transfer, emitting DefaultAdminTransferCanceled", async () => {
    const { token, admin, carol } = await networkHelpers.loadFixture(fixture);
    await token.connect(admin).beginDefaultAdminTransfer(carol.address);
    await expect(token.connect(admin).cancelDefaultAdminTransfer()).to.emit(token, "DefaultAdminTransferCanceled");
    expect(await token.pendingDefaultAdmin()).to.deep.equal([ethers.ZeroAddress, 0n]);
    await time.increase(ADMIN_TRANSFER_DELAY + 1n);
    await expect(token.connect(carol).acceptDefaultAdminTransfer())
      .to.be.revertedWithCustomError(token, "AccessControlInvalidDefaultAdmin")
      .withArgs(carol.address);
  });

  it("reverts with AccessControlUnauthorizedAccount when a non-admin begins a transfer", async () => {
    const { token, carol } = await networkHelpers.loadFixture(fixture);
    await expect(token.connect(carol).beginDefaultAdminTransfer(carol.address))
      .to.be.revertedWithCustomError(token, "AccessControlUnauthorizedAccount")
      .withArgs(carol.address, await token.DEFAULT_ADMIN_ROLE());
  });
});

describe("Stablecoin role-gated functions", () => {
  const cases = [
    { fn: "configureMinter", role: "MINTER_ADMIN_ROLE", args: (a: string) => [a, 1n] },
    { fn: "removeMinter", role: "MINTER_ADMIN_ROLE", args: (a: string) => [a] },
    { fn: "pause", role: "PAUSER_ROLE", args: () => [] },
    { fn: "unpause", role: "PAUSER_ROLE", args: () => [] },
    { fn: "freeze", role: "FREEZER_ROLE", args: (a: string) => [a] },
    { fn: "unfreeze", role: "FREEZER_ROLE", args: (a: string) => [a] },
    { fn: "rescueERC20", role: "RESCUER_ROLE", args: (a: string) => [a, a, 0n] },
  ] as const;

  for (const { fn, role, args } of cases) {
    it(`${fn} reverts with AccessControlUnauthorizedAccount(caller, ${role}) for a caller without the role`, async () => {
      const { token, admin, carol } = await networkHelpers.loadFixture(fixture);
      // Even the default admin does not hold the operational roles.
      for (const caller of [carol, admin]) {
        await expect(token.connect(caller).getFunction(fn)(...args(carol.address)))
          .to.be.revertedWithCustomError(token, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ethers.id(role));
      }
    });
  }
});
