/**
 * Model-based randomised test of the PaymentEscrow: fast-check drives random sequences of authorize (three funding
 * forms), capture, charge, void, reclaim, refund and time jumps over three payments against the real deployed
 * Stablecoin and escrow, and a plain TypeScript model predicts which calls must succeed. After every step:
 * each payment's on-chain state equals the model's (so a call that must revert did and changed nothing), the
 * escrow's balance equals the sum of what the payments hold, no payment released more than it took, and the
 * balances sum to totalSupply. fast-check prints the seed and path of a failing run.
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
      form: "allowance" | "permit" | "authorization";
      amount: Amount;
      fee: bigint;
    }
  | { kind: "capture"; p: number; amount: Amount; fee: bigint }
  | { kind: "void" | "reclaim"; p: number }
  | { kind: "refund"; p: number; amount: Amount; byMerchant: boolean }
  | { kind: "wait"; seconds: bigint }
  | { kind: "waitUntil"; p: number; edge: "authorization" | "refund"; offset: bigint };

const p = fc.integer({ min: 0, max: PAYMENTS - 1 });
const amount: fc.Arbitrary<Amount> = fc.oneof(
  fc.constant("all" as const),
  fc.bigInt({ min: 0n, max: MAX_AMOUNT + ONE }),
  fc.constantFrom(0n, 1n, MAX_AMOUNT, MAX_AMOUNT + 1n),
);
const fee = fc.oneof(fc.bigInt({ min: MIN_FEE, max: MAX_FEE }), fc.constantFrom(0n, MIN_FEE - 1n, MAX_FEE + 1n));
const form = fc.constantFrom("allowance" as const, "permit" as const, "authorization" as const);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("authorize" as const), p, form, amount, fee }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("charge" as const), p, form, amount, fee }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("capture" as const), p, amount, fee }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom("void" as const, "reclaim" as const), p }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("refund" as const), p, amount, byMerchant: fc.boolean() }) },
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
  taken: bigint;
  released: bigint;
};

async function succeeds(tx: Promise<{ wait(): Promise<unknown> }>): Promise<boolean> {
  try {
    await (await tx).wait();
    return true;
  } catch {
    // A call that fails gas estimation mines nothing; mine an empty block so the timestamp set for it is used up
    // (otherwise it would leak into the next run, which starts from a reverted snapshot).
    await networkHelpers.mine();
    return false;
  }
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
  o: Op,
  clock: bigint,
): Promise<{ ok: boolean; expected: boolean }> {
  if (o.kind === "wait" || o.kind === "waitUntil") return { ok: true, expected: true };
  const terms = f.terms[o.p]!;
  const m = model[o.p]!;
  const payer = o.p === 2 ? f.bob : f.alice;
  switch (o.kind) {
    case "authorize":
    case "charge": {
      const amt = o.amount === "all" ? MAX_AMOUNT : o.amount;
      const escrow = f.escrow.connect(f.operator);
      let tx;
      let now: bigint;
      if (o.form === "allowance") {
        await (await f.token.connect(payer).approve(f.escrowAddress, amt)).wait();
        now = await nextTimestamp(clock);
        tx = o.kind === "charge" ? escrow.charge(terms, amt, o.fee) : escrow.authorize(terms, amt);
      } else if (o.form === "permit") {
        const s = await f.signEscrowPermit(payer, amt);
        now = await nextTimestamp(clock);
        tx =
          o.kind === "charge"
            ? escrow.chargeWithPermit(terms, amt, o.fee, s.deadline, s.v, s.r, s.s)
            : escrow.authorizeWithPermit(terms, amt, s.deadline, s.v, s.r, s.s);
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
        m.taken += amt;
        if (o.kind === "charge") Object.assign(m, { held: 0n, captured: amt, status: Status.Captured, released: amt });
        else Object.assign(m, { held: amt, status: Status.Authorized });
      }
      return { ok, expected };
    }
    case "capture": {
      const amt = o.amount === "all" ? m.held : o.amount;
      const now = await nextTimestamp(clock);
      const live = now < terms.authorizationExpiry;
      const expected = live && amt > 0n && amt <= m.held && o.fee >= MIN_FEE && o.fee <= MAX_FEE;
      const ok = await succeeds(f.escrow.connect(f.operator).capture(terms, amt, o.fee));
      if (ok)
        Object.assign(m, {
          held: m.held - amt,
          captured: m.captured + amt,
          released: m.released + amt,
          status: Status.Captured,
        });
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
        Object.assign(m, { released: m.released + m.held, held: 0n });
        m.status = o.kind === "void" ? Status.Voided : Status.Reclaimed;
      }
      return { ok, expected };
    }
    case "refund": {
      const refundable = m.captured - m.refunded;
      const amt = o.amount === "all" ? refundable : o.amount;
      const refunder = o.byMerchant ? f.merchant : f.operator;
      const balance = await f.token.balanceOf(refunder.address);
      const now = await nextTimestamp(clock);
      const expected = now < terms.refundExpiry && amt > 0n && amt <= refundable && amt <= balance;
      const ok = await succeeds(f.escrow.connect(refunder).refund(terms, amt));
      if (ok) m.refunded += amt;
      return { ok, expected };
    }
  }
}

describe("PaymentEscrow invariants (fast-check, real contracts)", () => {
  it("escrow balance == sum held, no payment releases more than it took, ended payments stay ended, supply conserved", async () => {
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
        const holders = [f.alice, f.bob, f.carol, f.merchant, f.feeReceiver, f.operator].map((s) => s.address);
        holders.push(f.escrowAddress);
        let clock = BigInt(await time.latest());
        for (const o of ops) {
          clock += 10n; // leaves room for the approve/sign transactions some ops send first
          if (o.kind === "wait") clock += o.seconds;
          if (o.kind === "waitUntil") {
            const t = f.terms[o.p]!;
            const target = (o.edge === "authorization" ? t.authorizationExpiry : t.refundExpiry) + o.offset;
            if (target > clock) clock = target;
          }
          const { ok, expected } = await run(f, model, o, clock);
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
            expect(m.released + m.held).to.equal(m.taken);
            expect(m.refunded <= m.captured).to.equal(true);
            held += s.held;
          }
          expect(await f.token.balanceOf(f.escrowAddress)).to.equal(held);
          let sum = 0n;
          for (const h of holders) sum += await f.token.balanceOf(h);
          expect(sum).to.equal(await f.token.totalSupply());
        }
      }),
      { numRuns: 150 },
    );
  });
});
