/**
 * Where the gas of the costly token and escrow operations goes: each operation's execution gas split by what the
 * EVM charged it for, from `debug_traceTransaction` on Hardhat's in-process EVM. Storage reads (SLOAD, 2,100 cold
 * / 100 warm), storage writes (SSTORE, 20,000 for a zero slot made non-zero, 2,900 otherwise, plus 2,100 if cold),
 * event logs, calls (the call's own cost: a cold account 2,600, a precompile such as ecrecover 3,000; the callee's
 * steps are counted in their own kinds), hashing, and the rest (stack, memory, jumps: the code's own overhead).
 * The refund (a slot returned to its value at the start of the transaction) is subtracted last, as the EVM does.
 *
 * Run: `hardhat run bench/gas/profile.ts`. The gas table (`gas-table.ts`) gives the totals; this says why.
 */
import type { ContractTransactionResponse } from "ethers";
import { network } from "hardhat";

import { randomNonce, signTransferWithAuthorization } from "../../test/helpers/eip712.ts";
import { deployEscrow, MAX_UINT } from "../../test/contracts/escrow/escrow-fixture.ts";
import { ONE } from "../../test/helpers/stablecoin.ts";
import { printConditions } from "../lib/conditions.ts";

type Step = { op: string; gas: number; gasCost: number; depth: number };
const KINDS = ["SLOAD", "SSTORE", "LOG", "CALL", "KECCAK256", "rest"] as const;
type Kind = (typeof KINDS)[number];

const connection = await network.create();
const f = await deployEscrow(connection);
for (const who of [f.merchant, f.feeReceiver, f.operator, f.carol])
  await f.token.connect(f.minter).mint(who.address, ONE);

function kindOf(op: string): Kind {
  if (op === "SLOAD" || op === "SSTORE" || op === "KECCAK256") return op;
  if (op.startsWith("LOG")) return "LOG";
  if (op === "CALL" || op === "STATICCALL" || op === "DELEGATECALL" || op === "EXTCODESIZE") return "CALL";
  return "rest";
}

const isCall = (op: string) => op === "CALL" || op === "STATICCALL" || op === "DELEGATECALL";

/** Gas from step `i` to the next step back at its depth or shallower: a call's whole span, callee included. */
function span(steps: Step[], i: number): number {
  const step = steps[i]!;
  let j = i + 1;
  while (j < steps.length && steps[j]!.depth > step.depth) j++;
  const after = steps[j];
  return after ? step.gas - after.gas : step.gasCost;
}

/** Each step's own cost by kind: a call's span less its callee's steps, which count as their own kinds. */
function split(steps: Step[]): Record<Kind, number> {
  const totals = Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<Kind, number>;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    if (!isCall(step.op)) {
      totals[kindOf(step.op)] += step.gasCost;
      continue;
    }
    let callee = 0;
    for (let j = i + 1; j < steps.length && steps[j]!.depth > step.depth; j++) {
      const inner = steps[j]!;
      if (inner.depth === step.depth + 1) callee += isCall(inner.op) ? span(steps, j) : inner.gasCost;
    }
    totals.CALL += span(steps, i) - callee;
  }
  return totals;
}

const rows: [string, Record<Kind, number>, number, number][] = [];
async function profile(label: string, tx: Promise<ContractTransactionResponse>) {
  const sent = await tx;
  const receipt = await sent.wait();
  const trace = (await connection.provider.request({
    method: "debug_traceTransaction",
    params: [sent.hash, {}],
  })) as { gas: number; structLogs: Step[] };
  const totals = split(trace.structLogs);
  const charged = KINDS.reduce((sum, k) => sum + totals[k], 0);
  let calldata = 0;
  for (let i = 2; i < sent.data.length; i += 2) calldata += sent.data.slice(i, i + 2) === "00" ? 4 : 16;
  const execution = Number(receipt!.gasUsed) - 21_000 - calldata;
  rows.push([label, totals, charged - execution, execution]);
}

const escrow = f.escrow.connect(f.operator);
const amount = 10n * ONE;
await profile("Stablecoin.transfer", f.token.connect(f.alice).transfer(f.bob.address, ONE));
await profile("Stablecoin.approve", f.token.connect(f.alice).approve(f.bob.address, ONE));
{
  const auth = { from: f.alice.address, to: f.carol.address, value: ONE, validAfter: 0n, validBefore: MAX_UINT };
  const a = { ...auth, nonce: randomNonce() };
  const sig = await signTransferWithAuthorization(f.alice, f.token, a);
  await profile(
    "Stablecoin.transferWithAuthorization (bytes)",
    f.token["transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)"](
      a.from,
      a.to,
      a.value,
      a.validAfter,
      a.validBefore,
      a.nonce,
      sig.signature,
    ),
  );
}
{
  const terms = f.makeTerms();
  const a = await f.signReceive(f.alice, terms, amount);
  await profile(
    "PaymentEscrow.authorizeWithAuthorization",
    escrow.authorizeWithAuthorization(terms, amount, a.validAfter, a.validBefore, a.signature),
  );
  await profile("PaymentEscrow.capture (everything held)", escrow.capture(terms, amount, 100));
  const r = await f.signRefund(f.merchant, terms, ONE);
  await profile(
    "PaymentEscrow.refundWithAuthorization (first refund)",
    f.escrow.refundWithAuthorization(terms, ONE, r.refunder, r.validAfter, r.validBefore, r.refundSalt, r.signature),
  );
}
{
  const terms = f.makeTerms();
  const a = await f.signReceive(f.alice, terms, amount);
  await profile(
    "PaymentEscrow.chargeWithAuthorization",
    escrow.chargeWithAuthorization(terms, amount, 100, a.validAfter, a.validBefore, a.signature),
  );
}

printConditions("machine");
const width = Math.max(...rows.map(([label]) => label.length));
const cell = (n: number) => n.toLocaleString("en-US").padStart(9);
console.log(
  `| ${"operation".padEnd(width)} | ${[...KINDS, "refund", "execution"].map((k) => k.padStart(9)).join(" | ")} |`,
);
console.log(`| ${"-".repeat(width)} | ${[...KINDS, "refund", "execution"].map(() => "--------:").join(" | ")} |`);
for (const [label, totals, refund, execution] of rows)
  console.log(
    `| ${label.padEnd(width)} | ${KINDS.map((k) => cell(totals[k])).join(" | ")} | ${cell(refund === 0 ? 0 : -refund)} | ${cell(execution)} |`,
  );
await connection.close();
