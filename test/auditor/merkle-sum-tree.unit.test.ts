import { createHash } from "node:crypto";

import { expect } from "chai";
import fc from "fast-check";

import { buildMerkleSumTree, hashLeaf, rootFromProof, type SumNode } from "../../auditor/reserves/merkle-sum-tree.ts";
import { liabilityLeafId, liabilityProof, verifyLiabilityProof } from "../../auditor/reserves/liability-proof.ts";

const sha256 = (...parts: Buffer[]) => createHash("sha256").update(Buffer.concat(parts)).digest();
const u256 = (n: bigint) => Buffer.from(n.toString(16).padStart(64, "0"), "hex");
const id = (n: number) => sha256(Buffer.from(`user-${n}`));

/** The tree's definition, written out recursively and independently of the implementation. */
function definitionRoot(balances: bigint[]): SumNode {
  let level: SumNode[] = balances.map((b, i) => ({ hash: sha256(Buffer.from([0]), id(i), u256(b)), sum: b }));
  const padding = { hash: sha256(Buffer.from([2])), sum: 0n };
  while (level.length > 1) {
    const next: SumNode[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const [l, r] = [level[i]!, level[i + 1] ?? padding];
      next.push({ hash: sha256(Buffer.from([1]), l.hash, u256(l.sum), r.hash, u256(r.sum)), sum: l.sum + r.sum });
    }
    level = next;
  }
  return level[0]!;
}

const SEED = Number(process.env.AUDIT_PROPERTY_SEED ?? Math.floor(Math.random() * 2 ** 31));

describe("Merkle sum tree (auditor/reserves)", () => {
  it(`has the root of its definition and a verifying proof for every leaf (fast-check seed ${SEED})`, () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: 0n, max: 2n ** 128n }), { minLength: 1, maxLength: 40 }), (balances) => {
        const tree = buildMerkleSumTree(balances.map((b, i) => hashLeaf(id(i), b)));
        const expected = definitionRoot(balances);
        expect(tree.root.hash.equals(expected.hash)).to.equal(true);
        expect(tree.root.sum).to.equal(balances.reduce((a, b) => a + b, 0n));
        balances.forEach((b, i) => {
          const root = rootFromProof(hashLeaf(id(i), b), tree.proof(i));
          expect(root?.hash.equals(tree.root.hash)).to.equal(true);
          expect(root?.sum).to.equal(tree.root.sum);
        });
      }),
      { seed: SEED, numRuns: 60 },
    );
  });

  it("refuses negative balances and sums that do not fit 256 bits", () => {
    expect(() => hashLeaf(id(0), -1n)).to.throw(RangeError);
    expect(() => buildMerkleSumTree([hashLeaf(id(0), 2n ** 256n - 1n), hashLeaf(id(1), 1n)])).to.throw(RangeError);
  });
});

describe("Liability proofs (verify-proof)", () => {
  const users = ["alice", "bob", "carol", "dave", "erin"];
  const balances = [10n, 0n, 2_500n, 7n, 1_000_000n];
  const block = 42n;
  const leaves = users.map((user, i) => ({ user, balance: balances[i]!, id: liabilityLeafId(31337, block, user) }));
  const tree = buildMerkleSumTree(leaves.map((l) => hashLeaf(l.id, l.balance)));
  const proofOf = (i: number) =>
    liabilityProof({
      chainId: 31337,
      block,
      token: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
      root: tree.root,
      journalHead: { seq: 9n, hash: `0x${"11".repeat(32)}` },
      userId: leaves[i]!.user,
      index: i,
      balance: leaves[i]!.balance,
      steps: tree.proof(i),
    });

  it("verifies a valid proof, against its own root and the published one", () => {
    const proof = proofOf(2);
    const result = verifyLiabilityProof(JSON.parse(JSON.stringify(proof)));
    expect(result.ok, result.reason).to.equal(true);
    expect(result.computedRoot).to.deep.equal({ hash: proof.root.hash, sum: "1002517" });
    expect(verifyLiabilityProof(proof, proof.root.hash).ok).to.equal(true);
    expect(verifyLiabilityProof(proof, `0x${"00".repeat(32)}`).ok).to.equal(false);
  });

  it("fails a proof for a changed balance", () => {
    const proof = proofOf(2);
    const result = verifyLiabilityProof({ ...proof, leaf: { ...proof.leaf, balance: "2501" } });
    expect(result.ok).to.equal(false);
    expect(result.reason).to.include("not the proof's root");
  });

  it("fails a proof with a wrong sibling", () => {
    const proof = proofOf(0);
    const path = proof.path.map((step, i) => (i === 1 ? { ...step, hash: `0x${"22".repeat(32)}` } : step));
    expect(verifyLiabilityProof({ ...proof, path }).ok).to.equal(false);
    const lowered = proof.path.map((step, i) =>
      i === 0 ? { ...step, sum: (BigInt(step.sum) - 1n).toString() } : step,
    );
    expect(verifyLiabilityProof({ ...proof, path: lowered }).ok).to.equal(false);
  });

  it("fails a proof with a negative-sum node, which could hide a liability", () => {
    const proof = proofOf(3);
    const path = proof.path.map((step, i) => (i === 0 ? { ...step, sum: "-5" } : step));
    const result = verifyLiabilityProof({ ...proof, path });
    expect(result.ok).to.equal(false);
    expect(result.reason).to.include("negative sum");
  });

  it("fails a proof of another user, and a file that is not a proof", () => {
    const proof = proofOf(1);
    expect(verifyLiabilityProof({ ...proof, leaf: { ...proof.leaf, userId: "mallory" } }).ok).to.equal(false);
    expect(verifyLiabilityProof({ kind: "something else" }).ok).to.equal(false);
  });
});
