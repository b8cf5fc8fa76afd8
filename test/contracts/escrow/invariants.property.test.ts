/**
 * Model-based randomised test of the PaymentEscrow: fast-check drives random sequences of authorize (by a
 * pre-approved allowance or an EIP-3009 authorization), capture, charge, void, reclaim, refund (by the refunder's
 * own call or its EIP-3009 authorization) and time jumps over three payments against the real deployed Stablecoin
 * and escrow, and a plain TypeScript model predicts which calls must succeed and every party's token balance. After
 * every step, read from the chain: each payment's state equals the model's (so a call that must revert did and
 * changed nothing); every holder's balance equals the model's (payer, merchant, fee receiver, refunders — with fees
 * that do not divide evenly); what each payment released (its Transfers out of the escrow, from the receipts) plus
 * what it holds equals what it took (its Transfers in); refunded ≤ captured; the escrow's balance equals the sum
 * held; balances sum to totalSupply. Only contract reverts count as "must revert": any other error fails the test.
 * fast-check prints the seed and path of a failing run.
 */
import { expect } from "chai";
import fc from "fast-check";
import { network } from "hardhat";

import { ONE } from "../../helpers/stablecoin.ts";
import { DAY, MAX_AMOUNT, Status, deployEscrow, type Terms } from "./escrow-fixture.ts";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const { time } = networkHelpers;

const PAYMENTS = 3;
const MIN_FEE = 50n;
const MAX_FEE = 500n;

async function fixture() {
  const f = await deployEscrow(connection);
  await f.token.connect(f.minter).mint(f.operator.address, 500n * ONE);
  await f.token.connect(f.operator).approve(f.escrowAddress, ethers.MaxUint256);
  await f.token.connect(f.merchant).approve(f.escrowAddress, ethers.MaxUint256);
  const start = BigInt(await time.latest());
  const terms: Terms[] = [0, 1, 2].map((i) =>
    f.makeTerms({
      payer: i === 2 ? f.bob.address : f.alice.address,
      authorizationExpiry: start + BigInt(i + 1) * DAY,
      refundExpiry: start + BigInt(i + 3) * DAY,
      minFeeBps: MIN_FEE,
      maxFeeBps: MAX_FEE,
      salt: BigInt(i),
    }),
  );
  const ids = await Promise.all(terms.map((t) => f.escrow.getPaymentId(t)));
  return { ...f, terms, ids };
}
type Fixture = Awaited<ReturnType<typeof fixture>>;

type Amount = bigint | "all";
type Op =
  | {
      kind: "authorize" | "charge";
      p: number;
      form: "allowance" | "authorization";
      amount: Amount;
      fee: bigint;
    }
  | { kind: "capture"; p: number; amount: Amount; fee: bigint }
  | { kind: "void" | "reclaim"; p: number }
  | { kind: "refund"; p: number; amount: Amount; byMerchant: boolean; signed: boolean }
  | { kind: "wait"; seconds: bigint }
  | { kind: "waitUntil"; p: number; edge: "authorization" | "refund"; offset: bigint };

const p = fc.integer({ min: 0, max: PAYMENTS - 1 });
const amount: fc.Arbitrary<Amount> = fc.oneof(
  fc.constant("all" as const),
  fc.bigInt({ min: 0n, max: MAX_AMOUNT + ONE }),
  // Amounts whose fee does not divide evenly (rounding) and edges.
  fc.constantFrom(0n, 1n, 99n, 12_345n, 1_000_001n, MAX_AMOUNT, MAX_AMOUNT + 1n),
);
const fee = fc.oneof(fc.bigInt({ min: MIN_FEE, max: MAX_FEE }), fc.constantFrom(0n, MIN_FEE - 1n, MAX_FEE + 1n));
const form = fc.constantFrom("allowance" as const, "authorization" as const);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("authorize" as const), p, form, amount, fee }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("charge" as const), p, form, amount, fee }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("capture" as const), p, amount, fee }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom("void" as const, "reclaim" as const), p }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("refund" as const),
      p,
      amount,
      byMerchant: fc.boolean(),
      signed: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("wait" as const), seconds: fc.bigInt({ min: 1n, max: 2n * DAY }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("waitUntil" as const),
      p,
      edge: fc.constantFrom("authorization" as const, "refund" as const),
      offset: fc.constantFrom(-2n, -1n, 0n),
    }),
  },
);

type PaymentModel = {
  held: bigint;
  captured: bigint;
  refunded: bigint;
  status: bigint;
  /** From the chain: what the escrow received and sent for this payment (its Transfer logs). */
  taken: bigint;
  released: bigint;
};

/** The model's fee: feeBps of the amount rounded down, at least minFeeBps rounded up (the escrow's documented rule). */
function feeOf(amount: bigint, feeBps: bigint): bigint {
  const fee = (amount * feeBps) / 10_000n;
  const floor = (amount * MIN_FEE + 9_999n) / 10_000n;
  return fee > floor ? fee : floor;
}

type Receipt = { logs: readonly { address: string; topics: readonly string[]; data: string }[] };

/** Sends the call; null when the contract reverted (only a revert counts — any other error is rethrown). */
async function mined(tx: Promise<{ wait(): Promise<Receipt | null> }>): Promise<Receipt | null> {
  try {
    return await (await tx).wait();
  } catch (error) {
    if (!String(error).includes("revert")) throw error;
    // A call that fails gas estimation mines nothing; mine an empty block so the timestamp set for it is used up
    // (otherwise it would leak into the next run, which starts from a reverted snapshot).
    await networkHelpers.mine();
    return null;
  }
}

/** The token amounts a receipt moved into and out of the escrow. */
function escrowFlows(f: Fixture, receipt: Receipt): { into: bigint; out: bigint } {
  let into = 0n;
  let out = 0n;
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== f.tokenAddress.toLowerCase()) continue;
    const parsed = f.token.interface.parseLog(log);
    if (parsed?.name !== "Transfer") continue;
    const [from, to, value] = parsed.args as unknown as [string, string, bigint];
    if (to === f.escrowAddress) into += value;
    if (from === f.escrowAddress) out += value;
  }
  return { into, out };
}

/**
 * Sets the next block's timestamp to `clock`, or just after the latest block when that is later (auto-mined
 * set-up transactions and reverted snapshots can leave the chain's clock ahead), and returns it.
 */
async function nextTimestamp(clock: bigint): Promise<bigint> {
  const latest = BigInt(await time.latest());
  const at = clock > latest ? clock : latest + 1n;
  await time.setNextBlockTimestamp(at);
  return at;
}

/** Runs one op with the escrow call mined at `clock` (or just after), returning whether it succeeded. */
async function run(
  f: Fixture,
  model: PaymentModel[],
  balances: Map<string, bigint>,
  o: Op,
  clock: bigint,
): Promise<{ ok: boolean; expected: boolean }> {
  if (o.kind === "wait" || o.kind === "waitUntil") return { ok: true, expected: true };
  const terms = f.terms[o.p]!;
  const m = model[o.p]!;
  const payer = o.p === 2 ? f.bob : f.alice;
  const move = (from: string, to: string, value: bigint) => {
    balances.set(from, balances.get(from)! - value);
    balances.set(to, balances.get(to)! + value);
  };
  /** Sends the call; on success books the payment's flows in and out of the escrow, read from the receipt. */
  const succeeds = async (tx: Promise<{ wait(): Promise<Receipt | null> }>) => {
    const receipt = await mined(tx);
    if (!receipt) return false;
    const flows = escrowFlows(f, receipt);
    m.taken += flows.into;
    m.released += flows.out;
    return true;
  };
  switch (o.kind) {
    case "authorize":
    case "charge": {
      const amt = o.amount === "all" ? MAX_AMOUNT : o.amount;
      const escrow = f.escrow.connect(f.operator);
      let tx;
      let now: bigint;
      if (o.form === "allowance") {
        await (await f.token.connect(payer).approve(f.escrowAddress, amt)).wait();
        if (m.status === Status.None) await (await f.escrow.connect(payer).preApprove(terms)).wait();
        now = await nextTimestamp(clock);
        tx = o.kind === "charge" ? escrow.charge(terms, amt, o.fee) : escrow.authorize(terms, amt);
      } else {
        const s = await f.signReceive(payer, terms, amt);
        now = await nextTimestamp(clock);
        tx =
          o.kind === "charge"
            ? escrow.chargeWithAuthorization(terms, amt, o.fee, s.validAfter, s.validBefore, s.signature)
            : escrow.authorizeWithAuthorization(terms, amt, s.validAfter, s.validBefore, s.signature);
      }
      let expected = m.status === Status.None && now < terms.authorizationExpiry && amt > 0n && amt <= MAX_AMOUNT;
      if (o.kind === "charge") expected &&= o.fee >= MIN_FEE && o.fee <= MAX_FEE;
      const ok = await succeeds(tx);
      if (ok) {
        move(payer.address, f.escrowAddress, amt);
        if (o.kind === "charge") {
          const fee = feeOf(amt, o.fee);
          move(f.escrowAddress, f.merchant.address, amt - fee);
          move(f.escrowAddress, f.feeReceiver.address, fee);
          Object.assign(m, { held: 0n, captured: amt, status: Status.Captured });
        } else Object.assign(m, { held: amt, status: Status.Authorized });
      }
      return { ok, expected };
    }
    case "capture": {
      const amt = o.amount === "all" ? m.held : o.amount;
      const now = await nextTimestamp(clock);
      const live = now < terms.authorizationExpiry;
      const expected = live && amt > 0n && amt <= m.held && o.fee >= MIN_FEE && o.fee <= MAX_FEE;
      const ok = await succeeds(f.escrow.connect(f.operator).capture(terms, amt, o.fee));
      if (ok) {
        const fee = feeOf(amt, o.fee);
        move(f.escrowAddress, f.merchant.address, amt - fee);
        move(f.escrowAddress, f.feeReceiver.address, fee);
        Object.assign(m, { held: m.held - amt, captured: m.captured + amt, status: Status.Captured });
      }
      return { ok, expected };
    }
    case "void":
    case "reclaim": {
      const now = await nextTimestamp(clock);
      const expected = m.held > 0n && (o.kind === "void" || now >= terms.authorizationExpiry);
      const ok = await succeeds(
        o.kind === "void" ? f.escrow.connect(f.operator).void(terms) : f.escrow.connect(payer).reclaim(terms),
      );
      if (ok) {
        move(f.escrowAddress, payer.address, m.held);
        m.held = 0n;
        m.status = o.kind === "void" ? Status.Voided : Status.Reclaimed;
      }
      return { ok, expected };
    }
    case "refund": {
      const refundable = m.captured - m.refunded;
      const amt = o.amount === "all" ? refundable : o.amount;
      const refunder = o.byMerchant ? f.merchant : f.operator;
      const balance = await f.token.balanceOf(refunder.address);
      const signature = o.signed ? await f.signRefund(refunder, terms, amt) : undefined;
      const now = await nextTimestamp(clock);
      const expected = now < terms.refundExpiry && amt > 0n && amt <= refundable && amt <= balance;
      const ok = await succeeds(
        signature
          ? f.escrow
              .connect(f.stranger)
              .refundWithAuthorization(
                terms,
                amt,
                signature.refunder,
                signature.validAfter,
                signature.validBefore,
                signature.refundSalt,
                signature.signature,
              )
          : f.escrow.connect(refunder).refund(terms, amt),
      );
      if (ok) {
        move(refunder.address, payer.address, amt);
        m.refunded += amt;
      }
      return { ok, expected };
    }
  }
}

describe("PaymentEscrow invariants (fast-check, real contracts)", () => {
  it("every balance as the model says, escrow balance == sum held, no payment releases more than it took, supply conserved", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
        const f = await networkHelpers.loadFixture(fixture);
        const model: PaymentModel[] = f.ids.map(() => ({
          held: 0n,
          captured: 0n,
          refunded: 0n,
          status: Status.None,
          taken: 0n,
          released: 0n,
        }));
        const holders = [f.alice, f.bob, f.carol, f.merchant, f.feeReceiver, f.operator, f.stranger].map(
          (s) => s.address,
        );
        holders.push(f.escrowAddress);
        const balances = new Map<string, bigint>();
        for (const h of holders) balances.set(h, await f.token.balanceOf(h));
        let clock = BigInt(await time.latest());
        for (const o of ops) {
          clock += 10n; // leaves room for the approve/sign transactions some ops send first
          if (o.kind === "wait") clock += o.seconds;
          if (o.kind === "waitUntil") {
            const t = f.terms[o.p]!;
            const target = (o.edge === "authorization" ? t.authorizationExpiry : t.refundExpiry) + o.offset;
            if (target > clock) clock = target;
          }
          const { ok, expected } = await run(f, model, balances, o, clock);
          const latest = BigInt(await time.latest());
          if (latest > clock) clock = latest;
          expect(ok, `${o.kind} succeeded=${ok}, model expected ${expected}`).to.equal(expected);

          let held = 0n;
          for (const [i, paymentId] of f.ids.entries()) {
            const m = model[i]!;
            const s = await f.escrow.paymentState(paymentId);
            expect([s.held, s.captured, s.refunded, s.status]).to.deep.equal([
              m.held,
              m.captured,
              m.refunded,
              m.status,
            ]);
            expect(m.released + s.held, `payment ${i}: released + held == taken (from the chain)`).to.equal(m.taken);
            expect(s.refunded <= s.captured).to.equal(true);
            held += s.held;
          }
          expect(await f.token.balanceOf(f.escrowAddress)).to.equal(held);
          let sum = 0n;
          for (const h of holders) {
            const balance = await f.token.balanceOf(h);
            expect(balance, `balance of ${h} after ${o.kind}`).to.equal(balances.get(h));
            sum += balance;
          }
          expect(sum).to.equal(await f.token.totalSupply());
        }
      }),
      { numRuns: 150 },
    );
  });
});
