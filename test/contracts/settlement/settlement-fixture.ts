/**
 * The starting state of the Settlement tests: a Stablecoin (via the token's own test fixture), the
 * StablerailForwarder, a Settlement trusting it with a funded treasury, a payout operator, two merchants and a
 * stranger; plus a builder of signed `settleAuthorizations` items.
 */
import type { network } from "hardhat";

import { DEFAULT_AUTHORIZATION_GAS_LIMIT } from "../../../ignition/modules/Stablerail.ts";
import { randomNonce, signTransferWithAuthorization, type TypedDataSigner } from "../../helpers/eip712.ts";
import { deployStablecoin, ONE } from "../../helpers/stablecoin.ts";

type Connection = Awaited<ReturnType<typeof network.create>>;
export type SettlementFixture = Awaited<ReturnType<typeof deploySettlement>>;

export const MAX_UINT = 2n ** 256n - 1n;
export const TREASURY = 1_000n * ONE;
/** Settlement's default admin transfer waits this long (seconds); the token's fixture uses the same. */
export const SETTLEMENT_ADMIN_DELAY = 2n * 24n * 60n * 60n;
/** Gas forwarded to the token per settleAuthorizations item in these tests (the Ignition module's default). */
export const AUTHORIZATION_GAS_LIMIT = DEFAULT_AUTHORIZATION_GAS_LIMIT;

/**
 * Deploys token, forwarder and Settlement and funds the treasury; the payout operator, merchants and stranger are
 * distinct accounts.
 * @param connection - the test file's Hardhat connection
 * @param authorizationGasLimit - the Settlement's per-item gas cap
 */
export async function deploySettlement(connection: Connection, authorizationGasLimit = AUTHORIZATION_GAS_LIMIT) {
  const { ethers } = connection;
  const base = await deployStablecoin(connection);
  const signers = await ethers.getSigners();
  const [payoutOperator, merchantA, merchantB, stranger] = [10, 11, 12, 13].map((i) => signers[i]!);
  const forwarder = await ethers.deployContract("StablerailForwarder");
  const settlement = await ethers.deployContract("Settlement", [
    base.admin.address,
    SETTLEMENT_ADMIN_DELAY,
    await forwarder.getAddress(),
    authorizationGasLimit,
  ]);
  const settlementAddress = await settlement.getAddress();
  await settlement.connect(base.admin).grantRole(await settlement.PAYOUT_ROLE(), payoutOperator!.address);
  await base.token.connect(base.minter).mint(settlementAddress, TREASURY);
  return {
    ...base,
    payoutOperator: payoutOperator!,
    merchantA: merchantA!,
    merchantB: merchantB!,
    stranger: stranger!,
    forwarder,
    settlement,
    settlementAddress,
    tokenAddress: await base.token.getAddress(),
  };
}

/** One `settleAuthorizations` item as ethers passes the struct. */
export type SignedItem = {
  from: string;
  to: string;
  value: bigint;
  validAfter: bigint;
  validBefore: bigint;
  nonce: string;
  signature: string;
};

/**
 * A signed TransferWithAuthorization item for settleAuthorizations.
 * @param f - the fixture (for the token's EIP-712 domain)
 * @param from - the payer: an account, or a contract wallet's address (then pass its owner as `signer`)
 * @param to - the payee
 * @param value - the amount
 * @param overrides - another signer (a wrong one, or an ERC-1271 wallet's owner), expiry or nonce
 */
export async function signedItem(
  f: SettlementFixture,
  from: (TypedDataSigner & { address: string }) | string,
  to: string,
  value: bigint,
  overrides: { signer?: TypedDataSigner; validBefore?: bigint; nonce?: string } = {},
): Promise<SignedItem> {
  const fromAddress = typeof from === "string" ? from : from.address;
  const auth = {
    from: fromAddress,
    to,
    value,
    validAfter: 0n,
    validBefore: overrides.validBefore ?? MAX_UINT,
    nonce: overrides.nonce ?? randomNonce(),
  };
  const signer = overrides.signer ?? (typeof from === "string" ? undefined : from);
  if (!signer) throw new Error(`signedItem: a contract wallet's item (${fromAddress}) needs its owner as signer`);
  const sig = await signTransferWithAuthorization(signer, f.token, auth);
  return { ...auth, signature: sig.signature };
}

/**
 * A gas limit with which `settleAuthorizations` attempts every item whatever each does: what the contract requires
 * left per item (its view, plus the signature's length), plus room for the transaction and the call. A node's
 * estimate is no such limit — it is the gas used, at which the loop skips its tail (see the gas tests).
 */
export async function settleGasLimit(f: SettlementFixture, items: SignedItem[]): Promise<bigint> {
  const required = await f.settlement.authorizationGasRequired();
  return items.reduce((gas, item) => gas + required + BigInt((item.signature.length - 2) / 2), 150_000n);
}

/** The token's ABI-encoded custom error, as an AuthorizationFailed event carries it. */
export const errorData = (f: SettlementFixture, name: string, args: unknown[] = []) =>
  f.token.interface.encodeErrorResult(name, args);
