/**
 * Prints the gas used by Stablerail's token, escrow and settlement operations as a Markdown table, measured on
 * Hardhat's in-process EVM against the real contracts (compiled as hardhat.config.ts says), then a second table
 * setting the rows against the peers' figures quoted in `references.ts` (FiatTokenV2_2, commerce-payments).
 *
 * Run: `hardhat run bench/gas/gas-table.ts` (`GAS_HARDFORK=prague` to run on another hardfork than EDR's
 * default; prague, cancun and osaka give the same figures). Recipients already hold a balance unless the row says
 * "new holder"; batch rows divide the transaction's gas (including the 21,000 base) by the item count. Execution gas
 * is gas used minus the 21,000 base and the calldata's cost, the figure commerce-payments'
 * `.gas-snapshot-benchmarks` compares. Gas is deterministic (the machine's load does not change it); the last column
 * is each row against `Stablecoin.transfer`, the baseline measured in the same run.
 */
import { Wallet, id, type ContractTransactionResponse } from "ethers";
import { network } from "hardhat";

import { DEFAULT_ADMIN_TRANSFER_DELAY, DEFAULT_AUTHORIZATION_GAS_LIMIT } from "../../ignition/modules/Stablerail.ts";
import { randomNonce, signTransferWithAuthorization } from "../../test/helpers/eip712.ts";
import { deployEscrow, MAX_UINT } from "../../test/contracts/escrow/escrow-fixture.ts";
import { ONE } from "../../test/helpers/stablecoin.ts";
import { printConditions, times } from "../lib/conditions.ts";
import { references } from "./references.ts";

const hardfork = process.env.GAS_HARDFORK;
const connection = await network.create(hardfork ? { override: { hardfork } } : undefined);
const { ethers } = connection;
const f = await deployEscrow(connection);

/** Gas used, and execution gas: gas used minus the 21,000 base and the calldata (4 per zero byte, 16 per other). */
type Row = [label: string, gasUsed: bigint, execution: bigint];
const rows: Row[] = [];

function calldataGas(data: string): bigint {
  let gas = 0n;
  for (let i = 2; i < data.length; i += 2) gas += data.slice(i, i + 2) === "00" ? 4n : 16n;
  return gas;
}
async function gasOf(tx: Promise<ContractTransactionResponse>): Promise<{ used: bigint; execution: bigint }> {
  const sent = await tx;
  const receipt = await sent.wait();
  return { used: receipt!.gasUsed, execution: receipt!.gasUsed - 21_000n - calldataGas(sent.data) };
}
async function measure(label: string, tx: Promise<ContractTransactionResponse>) {
  const { used, execution } = await gasOf(tx);
  rows.push([label, used, execution]);
}

// Give every party a balance first so rows compare warm, non-zero balances.
for (const who of [f.merchant, f.feeReceiver, f.operator, f.carol])
  await f.token.connect(f.minter).mint(who.address, ONE);

// ---- token
await measure("Stablecoin.transfer", f.token.connect(f.alice).transfer(f.bob.address, ONE));
await measure(
  "Stablecoin.transfer (to a new holder)",
  f.token.connect(f.alice).transfer(Wallet.createRandom().address, ONE),
);
await measure("Stablecoin.mint (to a new holder)", f.token.connect(f.minter).mint(Wallet.createRandom().address, ONE));
await measure("Stablecoin.approve", f.token.connect(f.alice).approve(f.bob.address, ONE));
await measure(
  "Stablecoin.approve (changing an existing allowance)",
  f.token.connect(f.alice).approve(f.bob.address, 2n * ONE),
);
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
  const vrs = { ...auth, nonce: randomNonce() };
  const split = await signTransferWithAuthorization(f.alice, f.token, vrs);
  await measure(
    "Stablecoin.transferWithAuthorization (v, r, s)",
    f.token["transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)"](
      vrs.from,
      vrs.to,
      vrs.value,
      vrs.validAfter,
      vrs.validBefore,
      vrs.nonce,
      split.v,
      split.r,
      split.s,
    ),
  );
}

// ---- escrow
const escrow = f.escrow.connect(f.operator);
const amount = 10n * ONE;
{
  const terms = f.makeTerms();
  await f.token.connect(f.alice).approve(f.escrowAddress, amount);
  await measure("PaymentEscrow.preApprove (by payer)", f.escrow.connect(f.alice).preApprove(terms));
  await measure("PaymentEscrow.authorize (pre-approved allowance)", escrow.authorize(terms, amount));
  await measure("PaymentEscrow.capture (partial, with fee)", escrow.capture(terms, amount / 2n, 100));
  await measure("PaymentEscrow.void (rest held)", escrow.void(terms));
  await f.token.connect(f.merchant).approve(f.escrowAddress, MAX_UINT);
  await measure("PaymentEscrow.refund (by merchant, own allowance)", f.escrow.connect(f.merchant).refund(terms, ONE));
  const r = await f.signRefund(f.merchant, terms, ONE);
  await measure(
    "PaymentEscrow.refundWithAuthorization (EIP-3009, second refund)",
    f.escrow.refundWithAuthorization(terms, ONE, r.refunder, r.validAfter, r.validBefore, r.refundSalt, r.signature),
  );
}
{
  const terms = f.makeTerms();
  const a = await f.signReceive(f.alice, terms, amount);
  await escrow.authorizeWithAuthorization(terms, amount, a.validAfter, a.validBefore, a.signature);
  await measure("PaymentEscrow.capture (everything held, with fee)", escrow.capture(terms, amount, 100));
  // The API's refund: one refund of a payment, so its `refunded` slot goes from zero to non-zero here, where the
  // row above (a second refund of its payment) only changes it.
  const r = await f.signRefund(f.merchant, terms, ONE);
  await measure(
    "PaymentEscrow.refundWithAuthorization (EIP-3009, first refund)",
    f.escrow.refundWithAuthorization(terms, ONE, r.refunder, r.validAfter, r.validBefore, r.refundSalt, r.signature),
  );
}
{
  const terms = f.makeTerms();
  await f.token.connect(f.alice).approve(f.escrowAddress, amount);
  await f.escrow.connect(f.alice).preApprove(terms);
  await measure("PaymentEscrow.charge (pre-approved allowance, with fee)", escrow.charge(terms, amount, 100));
}
{
  const terms = f.makeTerms();
  const a = await f.signReceive(f.alice, terms, amount);
  await measure(
    "PaymentEscrow.chargeWithAuthorization (EIP-3009, with fee)",
    escrow.chargeWithAuthorization(terms, amount, 100, a.validAfter, a.validBefore, a.signature),
  );
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
const settlement = await ethers.deployContract("Settlement", [
  admin!.address,
  DEFAULT_ADMIN_TRANSFER_DELAY,
  await f.forwarder.getAddress(),
  DEFAULT_AUTHORIZATION_GAS_LIMIT,
]);
const settlementAddress = await settlement.getAddress();
await settlement.grantRole(await settlement.PAYOUT_ROLE(), admin!.address);
await f.token.connect(f.minter).mint(settlementAddress, 100_000n * ONE);
const perItem: Row[] = [];
for (const n of [1, 10, 100]) {
  const merchants = Array.from({ length: n }, () => Wallet.createRandom().address);
  for (const m of merchants) await f.token.connect(f.minter).mint(m, 1n);
  const items = merchants.map((merchant, i) => ({ merchant, amount: ONE, payoutReference: id(`ref-${i}`) }));
  const gas = await gasOf(settlement.payout(id(`batch-${n}`), f.tokenAddress, items));
  perItem.push([`Settlement.payout, per item, batch of ${n}`, gas.used / BigInt(n), gas.execution / BigInt(n)]);
}
const required = await settlement.authorizationGasRequired();
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
  // A node's estimate finds a limit at which items are skipped (AuthorizationsSkipped) rather than a revert, so the
  // limit is budgeted: what an honest item uses with room to spare, plus what the contract requires for one item.
  const gasLimit = 100_000n + BigInt(n) * 90_000n + required;
  const sent = settlement.settleAuthorizations(f.tokenAddress, items, { gasLimit });
  const receipt = await (await sent).wait();
  const settled = receipt!.logs.filter((log) => settlement.interface.parseLog(log)?.name === "AuthorizationSettled");
  if (settled.length !== n) throw new Error(`settleAuthorizations settled ${settled.length} of ${n} items`);
  const gas = await gasOf(sent);
  perItem.push([
    `Settlement.settleAuthorizations, per item, batch of ${n}`,
    gas.used / BigInt(n),
    gas.execution / BigInt(n),
  ]);
}
rows.push(...perItem);

const baseline = Number(rows[0]![1]);
const width = Math.max(...rows.map(([label]) => label.length));
printConditions("machine");
console.log(
  `> hardfork: ${connection.networkConfig.type === "edr-simulated" ? connection.networkConfig.hardfork : "?"}`,
);
console.log(`| ${"operation".padEnd(width)} | gas used | execution gas | × transfer |`);
console.log(`| ${"-".repeat(width)} | -------: | ------------: | ---------: |`);
const format = (gas: bigint, pad = 0) => gas.toLocaleString("en-US").padStart(pad);
for (const [label, used, execution] of rows)
  console.log(
    `| ${label.padEnd(width)} | ${format(used, 8)} | ${format(execution, 13)} | ${times(Number(used), baseline).padStart(10)} |`,
  );

// Against the peers' quoted figures: ours / theirs, on the column the peer publishes.
console.log("");
console.log("| ours | compared | peer (quoted, not measured here) | quoted | ours | ours / quoted | target |");
console.log("| ---- | -------- | -------------------------------- | -----: | ---: | ------------: | -----: |");
for (const reference of references) {
  const row = rows.find(([label]) => label === reference.ours);
  if (!row) throw new Error(`no gas row named ${reference.ours}`);
  const ours = reference.column === "used" ? row[1] : row[2];
  const ratio = Number(ours) / Number(reference.quoted);
  const met = ratio <= reference.target ? "met" : "missed";
  console.log(
    `| ${reference.ours} | ${reference.column === "used" ? "gas used" : "execution gas"} | ${reference.peer} | ` +
      `${format(reference.quoted)} | ${format(ours)} | ${ratio.toFixed(3)}× | ≤ ${reference.target.toFixed(2)}× ${met} |`,
  );
}
await connection.close();
