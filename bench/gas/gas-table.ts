/**
 * Prints the gas used by Stablerail's token, escrow and settlement operations as a Markdown table, measured on
 * Hardhat's in-process EVM against the real contracts (optimizer on, 10,000 runs, as in hardhat.config.ts).
 *
 * Run: `hardhat run bench/gas/gas-table.ts`. Recipients already hold a balance unless the row says "fresh";
 * batch rows divide the transaction's gas (including the 21,000 base) by the item count. Gas is deterministic
 * (the machine's load does not change it); the last column is each row against `Stablecoin.transfer`, the
 * baseline measured in the same run.
 */
import { Wallet, id, type ContractTransactionResponse } from "ethers";
import { network } from "hardhat";

import { randomNonce, signTransferWithAuthorization } from "../../test/helpers/eip712.ts";
import { deployEscrow, MAX_UINT } from "../../test/contracts/escrow/escrow-fixture.ts";
import { ONE } from "../../test/helpers/stablecoin.ts";
import { printConditions, times } from "../lib/conditions.ts";

const connection = await network.create();
const { ethers } = connection;
const f = await deployEscrow(connection);
const rows: [string, bigint][] = [];

async function gasOf(tx: Promise<ContractTransactionResponse>): Promise<bigint> {
  const receipt = await (await tx).wait();
  return receipt!.gasUsed;
}
async function measure(label: string, tx: Promise<ContractTransactionResponse>) {
  rows.push([label, await gasOf(tx)]);
}

// Give every party a balance first so rows compare warm, non-zero balances.
for (const who of [f.merchant, f.feeReceiver, f.operator, f.carol])
  await f.token.connect(f.minter).mint(who.address, ONE);

// ---- token
await measure("Stablecoin.transfer", f.token.connect(f.alice).transfer(f.bob.address, ONE));
await measure("Stablecoin.approve", f.token.connect(f.alice).approve(f.bob.address, ONE));
{
  const p = await f.signEscrowPermit(f.bob, ONE);
  await measure("Stablecoin.permit", f.token.permit(f.bob.address, f.escrowAddress, ONE, p.deadline, p.v, p.r, p.s));
}
{
  const auth = {
    from: f.alice.address,
    to: f.carol.address,
    value: ONE,
    validAfter: 0n,
    validBefore: MAX_UINT,
    nonce: randomNonce(),
  };
  const sig = await signTransferWithAuthorization(f.alice, f.token, auth);
  await measure(
    "Stablecoin.transferWithAuthorization (bytes signature)",
    f.token["transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)"](
      auth.from,
      auth.to,
      auth.value,
      auth.validAfter,
      auth.validBefore,
      auth.nonce,
      sig.signature,
    ),
  );
}

// ---- escrow
const escrow = f.escrow.connect(f.operator);
const amount = 10n * ONE;
{
  const terms = f.makeTerms();
  await f.token.connect(f.alice).approve(f.escrowAddress, amount);
  await measure("PaymentEscrow.authorize (existing allowance)", escrow.authorize(terms, amount));
  await measure("PaymentEscrow.capture (partial, with fee)", escrow.capture(terms, amount / 2n, 100));
  await measure("PaymentEscrow.void (rest held)", escrow.void(terms));
  await f.token.connect(f.merchant).approve(f.escrowAddress, MAX_UINT);
  await measure("PaymentEscrow.refund (by merchant)", f.escrow.connect(f.merchant).refund(terms, ONE));
}
{
  const terms = f.makeTerms();
  const p = await f.signEscrowPermit(f.alice, amount);
  await measure(
    "PaymentEscrow.authorizeWithPermit",
    escrow.authorizeWithPermit(terms, amount, p.deadline, p.v, p.r, p.s),
  );
  await measure("PaymentEscrow.capture (everything held, with fee)", escrow.capture(terms, amount, 100));
}
{
  const terms = f.makeTerms();
  await f.token.connect(f.alice).approve(f.escrowAddress, amount);
  await measure("PaymentEscrow.charge (existing allowance, with fee)", escrow.charge(terms, amount, 100));
}
{
  // Last escrow row: it moves the clock past the terms' authorization expiry.
  const terms = f.makeTerms();
  const a = await f.signReceive(f.alice, terms, amount);
  await measure(
    "PaymentEscrow.authorizeWithAuthorization (EIP-3009)",
    escrow.authorizeWithAuthorization(terms, amount, a.validAfter, a.validBefore, a.signature),
  );
  await connection.networkHelpers.time.increaseTo(terms.authorizationExpiry);
  await measure("PaymentEscrow.reclaim (by payer)", f.escrow.connect(f.alice).reclaim(terms));
}

// ---- settlement
const [admin] = await ethers.getSigners();
const settlement = await ethers.deployContract("Settlement", [admin!.address, await f.forwarder.getAddress()]);
const settlementAddress = await settlement.getAddress();
await settlement.grantRole(await settlement.PAYOUT_ROLE(), admin!.address);
await f.token.connect(f.minter).mint(settlementAddress, 100_000n * ONE);
const perItem: [string, bigint][] = [];
for (const n of [1, 10, 100]) {
  const merchants = Array.from({ length: n }, () => Wallet.createRandom().address);
  for (const m of merchants) await f.token.connect(f.minter).mint(m, 1n);
  const items = merchants.map((merchant, i) => ({ merchant, amount: ONE, payoutReference: id(`ref-${i}`) }));
  const gas = await gasOf(settlement.payout(id(`batch-${n}`), f.tokenAddress, items));
  perItem.push([`Settlement.payout, per item, batch of ${n}`, gas / BigInt(n)]);
}
for (const n of [1, 10, 100]) {
  const payers = Array.from({ length: n }, () => Wallet.createRandom());
  for (const payer of payers) await f.token.connect(f.minter).mint(payer.address, 10n * ONE);
  const items = [];
  for (const payer of payers) {
    const auth = {
      from: payer.address,
      to: f.merchant.address,
      value: ONE,
      validAfter: 0n,
      validBefore: MAX_UINT,
      nonce: randomNonce(),
    };
    const sig = await signTransferWithAuthorization(payer, f.token, auth);
    items.push({ ...auth, signature: sig.signature });
  }
  const gas = await gasOf(settlement.settleAuthorizations(f.tokenAddress, items));
  perItem.push([`Settlement.settleAuthorizations, per item, batch of ${n}`, gas / BigInt(n)]);
}
rows.push(...perItem);

const baseline = Number(rows[0]![1]);
const width = Math.max(...rows.map(([label]) => label.length));
printConditions("machine");
console.log(`| ${"operation".padEnd(width)} | gas used | × transfer |`);
console.log(`| ${"-".repeat(width)} | -------: | ---------: |`);
for (const [label, gas] of rows)
  console.log(
    `| ${label.padEnd(width)} | ${gas.toLocaleString("en-US").padStart(8)} | ${times(Number(gas), baseline).padStart(10)} |`,
  );
await connection.close();
