/**
 * Deploys a Stablecoin with every role held by a distinct account, one minter, and balances for alice and bob —
 * the starting state the Stablecoin test files share (wrap it in `networkHelpers.loadFixture`).
 */
import type { network } from "hardhat";

type Connection = Awaited<ReturnType<typeof network.create>>;
type Signer = Awaited<ReturnType<Connection["ethers"]["getSigners"]>>[number];

export const TOKEN_NAME = "Stablerail USD";
export const TOKEN_SYMBOL = "SRUSD";
export const TOKEN_DECIMALS = 6n;
/** The default admin's two-step transfer waits this long (seconds). */
export const ADMIN_TRANSFER_DELAY = 3n * 24n * 60n * 60n;
export const ONE = 10n ** TOKEN_DECIMALS;
export const MINTER_ALLOWANCE = 1_000_000n * ONE;
export const INITIAL_BALANCE = 1_000n * ONE;

/**
 * Deploys the token and hands out roles through its public API.
 * @param connection - the Hardhat network connection of the calling test file
 * @returns the token, the role holders and two funded holders (alice, bob) plus an unfunded carol
 */
export async function deployStablecoin(connection: Connection) {
  const { ethers } = connection;
  const signers = await ethers.getSigners();
  const signer = (index: number) => {
    const found = signers[index];
    if (found === undefined) throw new Error(`Hardhat network has no signer #${index}`);
    return found;
  };
  const [admin, minterAdmin, pauser, freezer, rescuer, minter, alice, bob, carol, relayer] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
  ].map(signer) as [Signer, Signer, Signer, Signer, Signer, Signer, Signer, Signer, Signer, Signer];
  const token = await ethers.deployContract("Stablecoin", [
    TOKEN_NAME,
    TOKEN_SYMBOL,
    TOKEN_DECIMALS,
    admin.address,
    ADMIN_TRANSFER_DELAY,
  ]);
  await token.connect(admin).grantRole(await token.MINTER_ADMIN_ROLE(), minterAdmin.address);
  await token.connect(admin).grantRole(await token.PAUSER_ROLE(), pauser.address);
  await token.connect(admin).grantRole(await token.FREEZER_ROLE(), freezer.address);
  await token.connect(admin).grantRole(await token.RESCUER_ROLE(), rescuer.address);
  await token.connect(minterAdmin).configureMinter(minter.address, MINTER_ALLOWANCE);
  await token.connect(minter).mint(alice.address, INITIAL_BALANCE);
  await token.connect(minter).mint(bob.address, INITIAL_BALANCE);
  return { token, admin, minterAdmin, pauser, freezer, rescuer, minter, alice, bob, carol, relayer };
}
