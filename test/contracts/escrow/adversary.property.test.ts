/**
 * Property-based adversary test of the PaymentEscrow (fast-check, real contracts). Honest parties have left every
 * kind of standing consent an escrow user leaves behind — a bare unlimited allowance (alice), a signed EIP-2612
 * permit (bob), an EIP-3009 authorization for one payment not yet submitted (carol), the merchant's allowance and a
 * signed refund authorization for one refund, a payment authorized and partly captured — and an attacker with its own
 * accounts, terms, ids and signatures sends random sequences of calls: charges and authorizations on terms it writes
 * (any victim as payer, itself as operator, merchant or fee receiver), the victims' signatures replayed on other
 * terms, tweaked copies of the honest terms, forged forward requests, refunds, pre-approvals, permits, time jumps.
 *
 * After every call, read from the chain: no victim's balance is below its start except by the one movement it signed
 * (the merchant's refund, which anyone may submit and which pays only the payer); the attacker never gains; the
 * honest payment's state is untouched but for that refund; the escrow's balance equals the sum of what every payment
 * it ever saw holds. fast-check prints the seed and the sequence of a failing run.
 */
import { expect } from "chai";
import { hexlify, randomBytes, type Signer } from "ethers";
import fc from "fast-check";
import { network } from "hardhat";

import { forwardRequestTypes } from "../../../lib/signing/forward-request.ts";

import { ONE } from "../../helpers/stablecoin.ts";
import { DAY, MAX_UINT, deployEscrow, type Terms } from "./escrow-fixture.ts";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const { time } = networkHelpers;

const REFUND = 5n * ONE;

async function fixture() {
  const f = await deployEscrow(connection);
  const signers = await ethers.getSigners();
  const accomplice = signers[14]! as Signer & { address: string };
  await f.token.connect(f.minter).mint(f.carol.address, 100n * ONE);
  await f.token.connect(f.minter).mint(f.merchant.address, 100n * ONE);
  await f.token.connect(f.minter).mint(f.operator.address, 100n * ONE);
  await f.token.connect(f.minter).mint(f.stranger.address, 50n * ONE);

  // alice: an unlimited allowance, and one honest payment she pre-approved, authorized and partly captured.
  await f.token.connect(f.alice).approve(f.escrowAddress, MAX_UINT);
  const honest = f.makeTerms();
  await f.escrow.connect(f.alice).preApprove(honest);
  await f.escrow.connect(f.operator).authorize(honest, 40n * ONE);
  await f.escrow.connect(f.operator).capture(honest, 20n * ONE, 100);
  // bob: a signed permit to the escrow, never applied.
  const bobPermit = await f.signEscrowPermit(f.bob, 50n * ONE);
  // carol: an EIP-3009 authorization for a payment of her own, not yet submitted.
  const carolTerms = f.makeTerms({ payer: f.carol.address });
  const carolAuthorization = await f.signReceive(f.carol, carolTerms, 30n * ONE);
  // The merchant and the operator: allowances for refunds, and the merchant's signed refund of the honest payment.
  await f.token.connect(f.merchant).approve(f.escrowAddress, 20n * ONE);
  await f.token.connect(f.operator).approve(f.escrowAddress, MAX_UINT);
  const merchantRefund = await f.signRefund(f.merchant, honest, REFUND);

  return { ...f, accomplice, honest, bobPermit, carolTerms, carolAuthorization, merchantRefund };
}
type Fixture = Awaited<ReturnType<typeof fixture>>;

type Victim = "alice" | "bob" | "carol" | "merchant" | "operator";
type Mine = "stranger" | "accomplice";
type Attack =
  | { kind: "pull"; charge: boolean; payer: Victim; merchant: Mine; feeTo: Mine | "none"; amount: bigint }
  | { kind: "replayCarol"; charge: boolean; merchant: Mine }
  | { kind: "submitCarolAsStranger" }
  | { kind: "honestTweaked"; field: "operator" | "merchant" | "payer" | "feeReceiver"; action: Action }
  | { kind: "honestDirect"; action: Action }
  | { kind: "refundReplay"; target: "honest" | "own"; amount: bigint }
  | { kind: "refundFrom"; victim: Victim; amount: bigint }
  | { kind: "applyBobPermit" }
  | { kind: "ownPayment"; merchant: Victim | Mine; amount: bigint }
  | { kind: "forgedForward"; victim: Victim }
  | { kind: "wait"; seconds: bigint };
type Action = "capture" | "void" | "reclaim";

const victim = fc.constantFrom<Victim>("alice", "bob", "carol", "merchant", "operator");
const mine = fc.constantFrom<Mine>("stranger", "accomplice");
const action = fc.constantFrom<Action>("capture", "void", "reclaim");
const smallAmount = fc.oneof(fc.constantFrom(1n, REFUND, 20n * ONE, 40n * ONE), fc.bigInt({ min: 1n, max: 60n * ONE }));
const attack: fc.Arbitrary<Attack> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("pull" as const),
      charge: fc.boolean(),
      payer: victim,
      merchant: mine,
      feeTo: fc.constantFrom<Mine | "none">("stranger", "accomplice", "none"),
      amount: smallAmount,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("replayCarol" as const), charge: fc.boolean(), merchant: mine }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("submitCarolAsStranger" as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("honestTweaked" as const),
      field: fc.constantFrom("operator" as const, "merchant" as const, "payer" as const, "feeReceiver" as const),
      action,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("honestDirect" as const), action }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("refundReplay" as const),
      target: fc.constantFrom("honest" as const, "own" as const),
      amount: fc.constantFrom(REFUND, REFUND - 1n, REFUND + 1n),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("refundFrom" as const), victim, amount: smallAmount }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("applyBobPermit" as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("ownPayment" as const),
      merchant: fc.oneof(victim, mine),
      amount: fc.bigInt({ min: 1n, max: 10n * ONE }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("forgedForward" as const), victim }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("wait" as const), seconds: fc.bigInt({ min: 1n, max: 3n * DAY }) }),
  },
);

function account(f: Fixture, name: Victim | Mine): Signer & { address: string } {
  return {
    alice: f.alice,
    bob: f.bob,
    carol: f.carol,
    merchant: f.merchant,
    operator: f.operator,
    stranger: f.stranger,
    accomplice: f.accomplice,
  }[name] as Signer & { address: string };
}

/** Terms the attacker writes: `payer` pays, the attacker operates, `merchant` receives, `feeTo` takes up to 100 %. */
function written(f: Fixture, payer: string, merchant: string, feeTo: string | undefined): Terms {
  return f.makeTerms({
    operator: f.stranger.address,
    payer,
    merchant,
    minFeeBps: 0n,
    maxFeeBps: feeTo ? 10_000n : 0n,
    feeReceiver: feeTo ?? ethers.ZeroAddress,
    maxAmount: 10n ** 30n,
    salt: BigInt(hexlify(randomBytes(32))),
  });
}

/** Sends one attack; a contract revert is an outcome, any other error fails the test. Returns the terms it used. */
async function send(f: Fixture, a: Attack): Promise<Terms[]> {
  const attacker = f.escrow.connect(f.stranger);
  const attempt = async (tx: () => Promise<{ wait(): Promise<unknown> }>) => {
    try {
      await (await tx()).wait();
    } catch (error) {
      if (!String(error).includes("revert")) throw error;
    }
  };
  switch (a.kind) {
    case "pull": {
      const terms = written(
        f,
        account(f, a.payer).address,
        account(f, a.merchant).address,
        a.feeTo === "none" ? undefined : account(f, a.feeTo).address,
      );
      await attempt(() =>
        a.charge ? attacker.charge(terms, a.amount, terms.maxFeeBps) : attacker.authorize(terms, a.amount),
      );
      if (!a.charge) await attempt(() => attacker.capture(terms, a.amount, terms.maxFeeBps));
      return [terms];
    }
    case "replayCarol": {
      const terms = written(f, f.carol.address, account(f, a.merchant).address, undefined);
      const s = f.carolAuthorization;
      const amount = 30n * ONE;
      await attempt(() =>
        a.charge
          ? attacker.chargeWithAuthorization(terms, amount, 0, s.validAfter, s.validBefore, s.signature)
          : attacker.authorizeWithAuthorization(terms, amount, s.validAfter, s.validBefore, s.signature),
      );
      return [terms];
    }
    case "submitCarolAsStranger": {
      const s = f.carolAuthorization;
      await attempt(() =>
        attacker.authorizeWithAuthorization(f.carolTerms, 30n * ONE, s.validAfter, s.validBefore, s.signature),
      );
      return [f.carolTerms];
    }
    case "honestTweaked":
    case "honestDirect": {
      const terms = a.kind === "honestDirect" ? f.honest : { ...f.honest, [a.field]: f.stranger.address };
      const as = a.action === "reclaim" ? f.escrow.connect(f.stranger) : attacker;
      await attempt(() =>
        a.action === "capture"
          ? as.capture(terms, ONE, terms.maxFeeBps)
          : a.action === "void"
            ? as.void(terms)
            : as.reclaim(terms),
      );
      return [terms];
    }
    case "refundReplay": {
      const r = f.merchantRefund;
      // Aim the merchant's refund at the honest payment (what it signed) or at a payment the attacker paid itself.
      const terms = a.target === "honest" ? f.honest : written(f, f.stranger.address, f.merchant.address, undefined);
      await attempt(() =>
        attacker.refundWithAuthorization(
          terms,
          a.amount,
          r.refunder,
          r.validAfter,
          r.validBefore,
          r.refundSalt,
          r.signature,
        ),
      );
      return [terms];
    }
    case "refundFrom": {
      // A refund whose refunder is a victim, sent by the attacker: refund pulls only from its caller.
      await attempt(() => attacker.refund({ ...f.honest, merchant: account(f, a.victim).address }, a.amount));
      await attempt(() => attacker.refund(f.honest, a.amount));
      return [];
    }
    case "applyBobPermit": {
      const p = f.bobPermit;
      await attempt(() =>
        f.token.connect(f.stranger).permit(f.bob.address, f.escrowAddress, 50n * ONE, p.deadline, p.v, p.r, p.s),
      );
      return [];
    }
    case "ownPayment": {
      // The attacker pays a payment of its own (its consent, its funds): it may only lose, never gain.
      const terms = written(f, f.stranger.address, account(f, a.merchant).address, undefined);
      await attempt(() => f.token.connect(f.stranger).approve(f.escrowAddress, a.amount));
      await attempt(() => f.escrow.connect(f.stranger).preApprove(terms));
      await attempt(() => attacker.authorize(terms, a.amount));
      return [terms];
    }
    case "forgedForward": {
      // A forward request in the victim's name calling preApprove on the attacker's terms, signed by the attacker.
      const terms = written(f, account(f, a.victim).address, f.stranger.address, undefined);
      const { chainId } = await ethers.provider.getNetwork();
      const request = {
        from: account(f, a.victim).address,
        to: f.escrowAddress,
        value: 0n,
        gas: 200_000n,
        nonce: await f.forwarder.nonces(account(f, a.victim).address),
        deadline: BigInt(await time.latest()) + 3_600n,
        data: f.escrow.interface.encodeFunctionData("preApprove", [terms]),
      };
      const signature = await f.stranger.signTypedData(
        { name: "StablerailForwarder", version: "1", chainId, verifyingContract: await f.forwarder.getAddress() },
        { ForwardRequest: [...forwardRequestTypes.ForwardRequest] },
        request,
      );
      await attempt(() => f.forwarder.connect(f.stranger).execute({ ...request, signature }));
      await attempt(() => attacker.charge(terms, ONE, 0));
      return [terms];
    }
    case "wait":
      await time.increase(a.seconds);
      return [];
  }
}

describe("PaymentEscrow against an adversary (fast-check, real contracts)", () => {
  it("no victim loses anything it did not sign for, the attacker never gains, the escrow holds exactly what payments hold", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(attack, { minLength: 1, maxLength: 12 }), async (attacks) => {
        const f = await networkHelpers.loadFixture(fixture);
        const victims = [f.alice, f.bob, f.carol, f.merchant, f.operator, f.feeReceiver];
        const attackers = [f.stranger, f.accomplice];
        const start = new Map<string, bigint>();
        for (const s of [...victims, ...attackers]) start.set(s.address, await f.token.balanceOf(s.address));
        const honestId = await f.escrow.getPaymentId(f.honest);
        const honestBefore = await f.escrow.paymentState(honestId);
        const seen = new Set<string>([honestId]);

        for (const [i, a] of attacks.entries()) {
          for (const terms of await send(f, a)) seen.add(await f.escrow.getPaymentId(terms));
          const where = `after attack #${i} ${JSON.stringify(a, (_k, v) => (typeof v === "bigint" ? v.toString() : v))}`;

          // The one movement a victim signed: the merchant's refund of the honest payment, paid to alice.
          const refunded = await f.token.authorizationState(f.merchant.address, f.merchantRefund.nonce);
          const allowedLoss = (who: string) => (refunded && who === f.merchant.address ? REFUND : 0n);
          for (const v of victims) {
            const balance = await f.token.balanceOf(v.address);
            expect(
              balance >= start.get(v.address)! - allowedLoss(v.address),
              `${v.address} lost funds ${where}`,
            ).to.equal(true);
          }
          let attackersNow = 0n;
          let attackersStart = 0n;
          for (const s of attackers) {
            attackersNow += await f.token.balanceOf(s.address);
            attackersStart += start.get(s.address)!;
          }
          expect(attackersNow <= attackersStart, `the attacker gained ${where}`).to.equal(true);

          const honest = await f.escrow.paymentState(honestId);
          expect([honest.held, honest.captured, honest.status], `honest payment ${where}`).to.deep.equal([
            honestBefore.held,
            honestBefore.captured,
            honestBefore.status,
          ]);
          expect(honest.refunded).to.equal(refunded ? REFUND : 0n);

          let held = 0n;
          for (const id of seen) held += (await f.escrow.paymentState(id)).held;
          expect(await f.token.balanceOf(f.escrowAddress), `escrow balance vs sum held ${where}`).to.equal(held);
        }
      }),
      { numRuns: 60 },
    );
  });
});
