import { expect } from "chai";
import { network } from "hardhat";

import StablerailModule from "../../../ignition/modules/Stablerail.ts";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const { loadFixture, mine } = networkHelpers;

const ROOT = `0x${"ab".repeat(32)}`;
const HEAD = `0x${"cd".repeat(32)}`;

async function fixture() {
  const [admin, attester, stranger] = await ethers.getSigners();
  const attestation = await ethers.deployContract("ReserveAttestation", [admin!.address, attester!.address]);
  await mine(5);
  return { attestation, admin: admin!, attester: attester!, stranger: stranger! };
}

describe("ReserveAttestation", () => {
  describe("attest", () => {
    it("records an attestation of a past block and emits ReservesAttested with every field", async () => {
      const { attestation, attester } = await loadFixture(fixture);
      const block = BigInt(await ethers.provider.getBlockNumber()) - 1n;
      await expect(attestation.connect(attester).attest(block, ROOT, 1_000n, 1_000n, HEAD, 42n))
        .to.emit(attestation, "ReservesAttested")
        .withArgs(0n, block, ROOT, 1_000n, 1_000n, HEAD, 42n, attester.address);
      expect(await attestation.attestationCount()).to.equal(1n);
      const stored = await attestation.attestation(0n);
      expect([stored.blockNumber, stored.liabilitiesRoot, stored.totalLiabilities, stored.reserves]).to.deep.equal([
        block,
        ROOT,
        1_000n,
        1_000n,
      ]);
      expect([stored.journalHead, stored.journalSeq, stored.attester]).to.deep.equal([HEAD, 42n, attester.address]);
    });

    it("reverts with AccessControlUnauthorizedAccount for a caller without ATTESTER_ROLE", async () => {
      const { attestation, stranger } = await loadFixture(fixture);
      await expect(attestation.connect(stranger).attest(1n, ROOT, 0n, 0n, HEAD, 0n))
        .to.be.revertedWithCustomError(attestation, "AccessControlUnauthorizedAccount")
        .withArgs(stranger.address, await attestation.ATTESTER_ROLE());
    });

    it("reverts with ReserveAttestationFutureBlock for the current block or later", async () => {
      const { attestation, attester } = await loadFixture(fixture);
      const next = BigInt(await ethers.provider.getBlockNumber()) + 1n;
      await expect(attestation.connect(attester).attest(next, ROOT, 0n, 0n, HEAD, 0n))
        .to.be.revertedWithCustomError(attestation, "ReserveAttestationFutureBlock")
        .withArgs(next, next);
    });

    it("reverts with ReserveAttestationNotNewer for a block not after the latest attested one", async () => {
      const { attestation, attester } = await loadFixture(fixture);
      await attestation.connect(attester).attest(3n, ROOT, 0n, 0n, HEAD, 0n);
      await expect(attestation.connect(attester).attest(3n, ROOT, 0n, 0n, HEAD, 0n))
        .to.be.revertedWithCustomError(attestation, "ReserveAttestationNotNewer")
        .withArgs(3n, 3n);
      await expect(attestation.connect(attester).attest(4n, ROOT, 0n, 0n, HEAD, 0n)).to.emit(
        attestation,
        "ReservesAttested",
      );
    });

    it("lets the admin grant ATTESTER_ROLE to another auditor", async () => {
      const { attestation, admin, stranger } = await loadFixture(fixture);
      await attestation.connect(admin).grantRole(await attestation.ATTESTER_ROLE(), stranger.address);
      await expect(attestation.connect(stranger).attest(2n, ROOT, 0n, 0n, HEAD, 0n)).to.emit(
        attestation,
        "ReservesAttested",
      );
    });
  });

  describe("attestation", () => {
    it("reverts with ReserveAttestationUnknown past the last index", async () => {
      const { attestation } = await loadFixture(fixture);
      await expect(attestation.attestation(0n))
        .to.be.revertedWithCustomError(attestation, "ReserveAttestationUnknown")
        .withArgs(0n);
    });
  });

  describe("in the Ignition module", () => {
    it("is deployed with the deployer as admin and as attester by default, or the attester given", async () => {
      const [deployer, , auditor] = await ethers.getSigners();
      const deployed = await connection.ignition.deploy(StablerailModule, { displayUi: false });
      const attestation = await ethers.getContractAt(
        "ReserveAttestation",
        await deployed.reserveAttestation.getAddress(),
      );
      expect(await attestation.hasRole(await attestation.DEFAULT_ADMIN_ROLE(), deployer!.address)).to.equal(true);
      expect(await attestation.hasRole(await attestation.ATTESTER_ROLE(), deployer!.address)).to.equal(true);
      const other = await connection.ignition.deploy(StablerailModule, {
        displayUi: false,
        parameters: { Stablerail: { attester: auditor!.address } },
        deploymentId: "with-attester",
      });
      const second = await ethers.getContractAt("ReserveAttestation", await other.reserveAttestation.getAddress());
      expect(await second.hasRole(await second.ATTESTER_ROLE(), auditor!.address)).to.equal(true);
    });
  });
});
