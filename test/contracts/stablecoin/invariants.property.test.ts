/**
 * Model-based randomised test: fast-check drives random sequences of every state-changing operation against a
 * real deployed Stablecoin and a plain TypeScript model of it. The model predicts whether each operation must
 * revert; after every operation the chain's whole observable state (balances, allowances, supply, minter
 * allowance, frozen flags, pause) must equal the model's — so an operation that should revert did, and changed
 * nothing — and the balances must sum to totalSupply. fast-check prints the seed and path of a failing run.
 */
import { expect } from "chai";
import fc from "fast-check";
import { network } from "hardhat";

import { randomNonce, signTransferWithAuthorization } from "../../helpers/eip712.ts";
import { deployStablecoin, INITIAL_BALANCE, MINTER_ALLOWANCE } from "../../helpers/stablecoin.ts";

const connection = await network.create();
const { ethers, networkHelpers } = connection;

const fixture = () => deployStablecoin(connection);
type Fixture = Awaited<ReturnType<typeof fixture>>;

/** Actors are indices into [alice, bob, carol, minter]. */
const ACTORS = 4;
const MINTER = 3;

type Op =
  | { kind: "mint"; to: number; amount: bigint }
  | { kind: "burn"; amount: bigint }
  | { kind: "transfer"; from: number; to: number; amount: bigint }
  | { kind: "approve"; owner: number; spender: number; amount: bigint }
  | { kind: "transferFrom"; spender: number; from: number; to: number; amount: bigint }
  | { kind: "freeze" | "unfreeze"; account: number }
  | { kind: "pause" | "unpause" }
  | {
      kind: "transferWithAuthorization";
      from: number;
      to: number;
      relayer: number;
      amount: bigint;
      window: "valid" | "expired" | "notYetValid";
      reuseNonce: boolean;
    };

const actor = fc.integer({ min: 0, max: ACTORS - 1 });
/** Mostly amounts near the live balances, sometimes 0, sometimes just too much. */
const amount = fc.oneof(
  fc.bigInt({ min: 0n, max: INITIAL_BALANCE / 2n }),
  fc.bigInt({ min: 0n, max: 3n * INITIAL_BALANCE }),
  fc.constantFrom(0n, 1n, INITIAL_BALANCE, INITIAL_BALANCE + 1n, ethers.MaxUint256),
);

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("mint" as const), to: actor, amount }),
  fc.record({ kind: fc.constant("burn" as const), amount }),
  fc.record({ kind: fc.constant("transfer" as const), from: actor, to: actor, amount }),
  fc.record({ kind: fc.constant("approve" as const), owner: actor, spender: actor, amount }),
  fc.record({ kind: fc.constant("transferFrom" as const), spender: actor, from: actor, to: actor, amount }),
  fc.record({ kind: fc.constantFrom("freeze" as const, "unfreeze" as const), account: actor }),
  fc.record({ kind: fc.constantFrom("pause" as const, "unpause" as const) }),
  fc.record({
    kind: fc.constant("transferWithAuthorization" as const),
    from: actor,
    to: actor,
    relayer: actor,
    amount,
    window: fc.constantFrom("valid" as const, "valid" as const, "expired" as const, "notYetValid" as const),
    reuseNonce: fc.boolean(),
  }),
);

type Model = {
  balances: bigint[];
  allowances: bigint[][];
  frozen: boolean[];
  paused: boolean;
  minterAllowance: bigint;
  totalSupply: bigint;
  usedNonces: string[][];
};

function initialModel(): Model {
  return {
    balances: [INITIAL_BALANCE, INITIAL_BALANCE, 0n, 0n],
    allowances: Array.from({ length: ACTORS }, () => Array<bigint>(ACTORS).fill(0n)),
    frozen: Array<boolean>(ACTORS).fill(false),
    paused: false,
    minterAllowance: MINTER_ALLOWANCE - 2n * INITIAL_BALANCE,
    totalSupply: 2n * INITIAL_BALANCE,
    usedNonces: Array.from({ length: ACTORS }, () => []),
  };
}

async function readState(f: Fixture, actors: string[]) {
  const { token, minter } = f;
  const [balances, allowances, frozen, paused, minterAllowance, totalSupply] = await Promise.all([
    Promise.all(actors.map((a) => token.balanceOf(a))),
    Promise.all(actors.map((o) => Promise.all(actors.map((s) => token.allowance(o, s))))),
    Promise.all(actors.map((a) => token.isFrozen(a))),
    token.paused(),
    token.minterAllowance(minter.address),
    token.totalSupply(),
  ]);
  return { balances, allowances, frozen, paused, minterAllowance, totalSupply };
}

/**
 * Applies `o` to the model if it must succeed; returns whether it must succeed. Mirrors the contract's rules:
 * nothing moves or is approved while paused; no frozen sender, receiver, caller, owner or spender.
 */
function predict(m: Model, o: Op, nonceUsed: boolean): boolean {
  const live = (...accounts: number[]) => !m.paused && accounts.every((a) => !m.frozen[a]);
  const move = (from: number, to: number, value: bigint) => {
    m.balances[from]! -= value;
    m.balances[to]! += value;
  };
  switch (o.kind) {
    case "mint":
      if (!live(MINTER, o.to) || o.amount > m.minterAllowance) return false;
      m.minterAllowance -= o.amount;
      m.balances[o.to]! += o.amount;
      m.totalSupply += o.amount;
      return true;
    case "burn":
      if (!live(MINTER) || o.amount > m.balances[MINTER]!) return false;
      m.balances[MINTER]! -= o.amount;
      m.totalSupply -= o.amount;
      return true;
    case "transfer":
      if (!live(o.from, o.to) || o.amount > m.balances[o.from]!) return false;
      move(o.from, o.to, o.amount);
      return true;
    case "approve":
      if (!live(o.owner, o.spender)) return false;
      m.allowances[o.owner]![o.spender] = o.amount;
      return true;
    case "transferFrom": {
      const allowance = m.allowances[o.from]![o.spender]!;
      if (!live(o.spender, o.from, o.to) || o.amount > allowance || o.amount > m.balances[o.from]!) return false;
      if (allowance !== ethers.MaxUint256) m.allowances[o.from]![o.spender] = allowance - o.amount;
      move(o.from, o.to, o.amount);
      return true;
    }
    case "freeze":
    case "unfreeze":
      m.frozen[o.account] = o.kind === "freeze";
      return true;
    case "pause":
    case "unpause":
      if (m.paused === (o.kind === "pause")) return false;
      m.paused = o.kind === "pause";
      return true;
    case "transferWithAuthorization":
      if (o.window !== "valid" || nonceUsed) return false;
      if (!live(o.from, o.to, o.relayer) || o.amount > m.balances[o.from]!) return false;
      move(o.from, o.to, o.amount);
      return true;
  }
}

async function execute(f: Fixture, m: Model, o: Op): Promise<{ expected: boolean; succeeded: boolean }> {
  const { token, minter, pauser, freezer } = f;
  const actors = [f.alice, f.bob, f.carol, minter];
  const addr = (i: number) => actors[i]!.address;
  switch (o.kind) {
    case "mint":
      return { expected: predict(m, o, false), ...(await attempt(token.connect(minter).mint(addr(o.to), o.amount))) };
    case "burn":
      return { expected: predict(m, o, false), ...(await attempt(token.connect(minter).burn(o.amount))) };
    case "transfer":
      return {
        expected: predict(m, o, false),
        ...(await attempt(token.connect(actors[o.from]!).transfer(addr(o.to), o.amount))),
      };
    case "approve":
      return {
        expected: predict(m, o, false),
        ...(await attempt(token.connect(actors[o.owner]!).approve(addr(o.spender), o.amount))),
      };
    case "transferFrom":
      return {
        expected: predict(m, o, false),
        ...(await attempt(token.connect(actors[o.spender]!).transferFrom(addr(o.from), addr(o.to), o.amount))),
      };
    case "freeze":
      return { expected: predict(m, o, false), ...(await attempt(token.connect(freezer).freeze(addr(o.account)))) };
    case "unfreeze":
      return { expected: predict(m, o, false), ...(await attempt(token.connect(freezer).unfreeze(addr(o.account)))) };
    case "pause":
      return { expected: predict(m, o, false), ...(await attempt(token.connect(pauser).pause())) };
    case "unpause":
      return { expected: predict(m, o, false), ...(await attempt(token.connect(pauser).unpause())) };
    case "transferWithAuthorization": {
      const used = m.usedNonces[o.from]!;
      const reuse = o.reuseNonce && used.length > 0;
      const nonce = reuse ? used[used.length - 1]! : randomNonce();
      const now = BigInt(await networkHelpers.time.latest());
      const [validAfter, validBefore] =
        o.window === "valid" ? [0n, now + 3600n] : o.window === "expired" ? [0n, now] : [now + 3600n, now + 7200n];
      const auth = { from: addr(o.from), to: addr(o.to), value: o.amount, validAfter, validBefore, nonce };
      const sig = await signTransferWithAuthorization(actors[o.from]!, token, auth);
      const expected = predict(m, o, reuse);
      const outcome = await attempt(
        token
          .connect(actors[o.relayer]!)
          .getFunction("transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)")(
          auth.from,
          auth.to,
          auth.value,
          auth.validAfter,
          auth.validBefore,
          auth.nonce,
          sig.signature,
        ),
      );
      if (expected) used.push(nonce);
      return { expected, ...outcome };
    }
  }
}

async function attempt(tx: Promise<{ wait(): Promise<unknown> }>): Promise<{ succeeded: boolean }> {
  try {
    await (await tx).wait();
    return { succeeded: true };
  } catch (error) {
    // Only contract reverts count as "should revert"; anything else is a broken test.
    if (!String(error).includes("revert")) throw error;
    return { succeeded: false };
  }
}

describe("Stablecoin invariants under random operation sequences", () => {
  it("keeps sum(balances) == totalSupply, and every operation that must revert reverts and changes nothing", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 30 }), async (ops) => {
        const f = await networkHelpers.loadFixture(fixture);
        const actors = [f.alice, f.bob, f.carol, f.minter].map((s) => s.address);
        const model = initialModel();
        for (const [i, o] of ops.entries()) {
          const { expected, succeeded } = await execute(f, model, o);
          expect(succeeded, `op #${i} ${stringify(o)}: expected ${expected ? "success" : "revert"}`).to.equal(expected);
          const chain = await readState(f, actors);
          const { usedNonces: _ignored, ...comparable } = model;
          expect(chain, `state after op #${i} ${stringify(o)}`).to.deep.equal(comparable);
          expect(chain.balances.reduce((a, b) => a + b, 0n)).to.equal(chain.totalSupply);
        }
        for (const [i, nonces] of model.usedNonces.entries()) {
          for (const nonce of nonces) expect(await f.token.authorizationState(actors[i]!, nonce)).to.equal(true);
        }
      }),
      { numRuns: 100 },
    );
  });
});

function stringify(o: Op): string {
  return JSON.stringify(o, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}
