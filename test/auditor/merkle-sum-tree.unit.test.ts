import { createHash } from "node:crypto";

import { expect } from "chai";
import fc from "fast-check";

import {
  buildMerkleSumTree,
  buildMerkleSumTreeOfIds,
  hashLeaf,
  rootFromProof,
  type SumNode,
} from "../../auditor/reserves/merkle-sum-tree.ts";
import { liabilityLeafId, liabilityProof, verifyLiabilityProof } from "../../auditor/reserves/liability-proof.ts";
import { buildLiabilitiesTree, leafOrder } from "../../auditor/reserves/reserves-report.ts";

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

  it(`builds the same tree from flat leaf ids as from hashed leaves (fast-check seed ${SEED})`, () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: 0n, max: 2n ** 200n }), { minLength: 1, maxLength: 40 }), (balances) => {
        const ids = Buffer.concat(balances.map((_, i) => id(i)));
        const flat = buildMerkleSumTreeOfIds(ids, balances);
        const expected = definitionRoot(balances);
        expect(flat.root.hash.equals(expected.hash)).to.equal(true);
        expect(flat.root.sum).to.equal(expected.sum);
        const objects = buildMerkleSumTree(balances.map((b, i) => hashLeaf(id(i), b)));
        balances.forEach((_, i) => expect(flat.proof(i)).to.deep.equal(objects.proof(i)));
      }),
      { seed: SEED, numRuns: 40 },
    );
  });

  // Pinned with the tree as it was before it moved to flat buffers (a tree of a Buffer and an object
  // per node): the same liabilities must keep the same root, or every published attestation breaks.
  it("keeps the root and proofs published before: a pinned 1,001-leaf liabilities tree", () => {
    const balances: [string, bigint][] = Array.from({ length: 1_001 }, (_, i) => [
      `user-${i}`,
      i % 10 === 0 ? 2n ** 200n + BigInt(i) : BigInt(i * 7_919),
    ]);
    const { leaves, tree } = buildLiabilitiesTree(31337, 42n, balances);
    expect(tree.root.hash.toString("hex")).to.equal("3d9769cea059b36f9deb3823ff25588d764c7ef90d650c94be251c99d22376cc");
    expect(tree.root.sum).to.equal(162300742470158017829738171326457422854742502372062079929039476n);
    expect([leaves[0]!.userId, leaves[1_000]!.userId]).to.deep.equal(["user-353", "user-75"]);
    const step = tree.proof(517)[3]!;
    expect(tree.proof(517)).to.have.length(10);
    expect([step.hash.toString("hex"), step.sum, step.side]).to.deep.equal([
      "9522fd0be04417060e22bf07d5302fd98e2d0ccf262a1930ad170733565ead0f",
      25_419_990n,
      "right",
    ]);
    const small = buildMerkleSumTree([3n, 5n, 0n, 2n ** 255n, 11n].map((b, i) => hashLeaf(id(i), b)));
    expect(small.root.hash.toString("hex")).to.equal(
      "abace35405758392d3893ba60bb3fc013ffefca98bbb7d7f4479687a59b4efde",
    );
  });

  it("orders leaves by their whole id, also when ids share their leading bytes", () => {
    // 64 ids in 8 groups sharing their first 12 bytes: the packed sort key cannot tell a group apart.
    const ids = Buffer.concat(
      Array.from({ length: 64 }, (_, i) => {
        const bytes = sha256(Buffer.from(`id-${i}`));
        Buffer.alloc(12, i % 8).copy(bytes);
        return bytes;
      }),
    );
    const idAt = (i: number) => ids.subarray(32 * i, 32 * i + 32);
    const expected = Array.from({ length: 64 }, (_, i) => i).sort((a, b) => Buffer.compare(idAt(a), idAt(b)));
    expect([...leafOrder(ids, 64)]).to.deep.equal(expected);
    // Equal ids keep their input order.
    const twins = Buffer.concat([idAt(5), idAt(3), idAt(5)]);
    expect([...leafOrder(twins, 3)]).to.deep.equal([1, 0, 2]);
  });

  it("refuses negative balances and sums that do not fit 256 bits", () => {
    expect(() => hashLeaf(id(0), -1n)).to.throw(RangeError);
    expect(() => buildMerkleSumTree([hashLeaf(id(0), 2n ** 256n - 1n), hashLeaf(id(1), 1n)])).to.throw(RangeError);
    expect(() => buildMerkleSumTreeOfIds(Buffer.concat([id(0), id(1)]), [2n ** 256n - 1n, 1n])).to.throw(RangeError);
    expect(() => buildMerkleSumTreeOfIds(id(0), [-1n])).to.throw(RangeError);
    expect(() => buildLiabilitiesTree(31337, 1n, [["alice", -1n]])).to.throw(RangeError);
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
