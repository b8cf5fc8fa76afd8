/**
 * A Merkle sum tree of liabilities (pure): every node commits to its children's hashes *and* the sum
 * of their balances, so the root commits to the total, and a user's inclusion proof shows their
 * balance is counted in it — no liability can be left out or cancelled by a negative one, because
 * every sum on a path is checked to be a non-negative 256-bit number (as in Summa and Binance's
 * proof of reserves). `@openzeppelin/merkle-tree` builds plain trees (hashes only, keccak over
 * sorted pairs), which cannot carry the sums; this one is small enough to read in full.
 *
 * Definition (SHA-256, big-endian 32-byte integers, `‖` concatenation):
 *   leaf(id, balance)         = (H(0x00 ‖ id ‖ balance), balance)       id: 32 bytes, balance ≥ 0
 *   node((hL, sL), (hR, sR))  = (H(0x01 ‖ hL ‖ sL ‖ hR ‖ sR), sL + sR)
 *   padding (odd level)        = (H(0x02), 0)
 * Levels are built pairwise from the leaves in order; the root is the single node of the last level
 * (a tree of one leaf has that leaf as its root).
 */
import { hash } from "node:crypto";

export type SumNode = { hash: Buffer; sum: bigint };

/** One step of an inclusion proof: the sibling's hash and sum, and on which side it sits. */
export type ProofStep = { hash: Buffer; sum: bigint; side: "left" | "right" };

const MAX_SUM = (1n << 256n) - 1n;
const MAX_UINT64 = (1n << 64n) - 1n;
const sha256 = (input: Buffer): Buffer => hash("sha256", input, "buffer");
const PADDING: SumNode = { hash: sha256(Buffer.from([2])), sum: 0n };

// Hash inputs are assembled in these buffers (one-shot `crypto.hash` copies its input), not
// concatenated per node: a million-leaf tree hashes two million times, and allocation was most of it.
const leafInput = Buffer.alloc(1 + 32 + 32);
leafInput[0] = 0;
const nodeInput = Buffer.alloc(1 + 32 + 32 + 32 + 32);
nodeInput[0] = 1;

/** Writes a 256-bit unsigned integer as 32 big-endian bytes at `offset`. @throws RangeError outside 0..2^256−1 */
function writeUint256(target: Buffer, offset: number, value: bigint): void {
  if (value < 0n || value > MAX_SUM) throw new RangeError(`not a uint256: ${value}`);
  if (value <= MAX_UINT64) {
    target.fill(0, offset, offset + 24);
    target.writeBigUInt64BE(value, offset + 24);
    return;
  }
  for (let word = 0; word < 4; word++)
    target.writeBigUInt64BE((value >> BigInt(192 - 64 * word)) & MAX_UINT64, offset + 8 * word);
}

/** A 256-bit unsigned integer as 32 big-endian bytes. @throws RangeError outside 0..2^256−1 */
export function uint256Bytes(value: bigint): Buffer {
  const bytes = Buffer.alloc(32);
  writeUint256(bytes, 0, value);
  return bytes;
}

/** The leaf of a liability: `id` (32 bytes, a hash of the user's identity) and a balance ≥ 0. */
export function hashLeaf(id: Buffer, balance: bigint): SumNode {
  if (id.length !== 32) throw new RangeError("a leaf id is 32 bytes");
  id.copy(leafInput, 1);
  writeUint256(leafInput, 33, balance);
  return { hash: sha256(leafInput), sum: balance };
}

/** The parent of two nodes. @throws RangeError when a sum is negative or the total overflows 256 bits */
export function hashNode(left: SumNode, right: SumNode): SumNode {
  const sum = left.sum + right.sum;
  if (sum > MAX_SUM) throw new RangeError(`the sum ${sum} does not fit 256 bits`);
  if (left.hash.length !== 32 || right.hash.length !== 32) throw new RangeError("a node hash is 32 bytes");
  left.hash.copy(nodeInput, 1);
  writeUint256(nodeInput, 33, left.sum);
  right.hash.copy(nodeInput, 65);
  writeUint256(nodeInput, 97, right.sum);
  return { hash: sha256(nodeInput), sum };
}

export type MerkleSumTree = {
  root: SumNode;
  /** Number of leaves. */
  size: number;
  /** The proof of the leaf at `index` (its siblings, leaf level first). */
  proof: (index: number) => ProofStep[];
};

/**
 * Builds the tree over `leaves` in the order given.
 * @param leaves - at least one leaf, each from {@link hashLeaf}
 * @example
 * const tree = buildMerkleSumTree(users.map((u) => hashLeaf(u.id, u.balance)));
 * tree.root.sum; // total liabilities
 */
export function buildMerkleSumTree(leaves: readonly SumNode[]): MerkleSumTree {
  if (leaves.length === 0) throw new RangeError("a Merkle sum tree needs at least one leaf");
  const levels: SumNode[][] = [leaves as SumNode[]];
  while (levels[levels.length - 1]!.length > 1) {
    const below = levels[levels.length - 1]!;
    const level: SumNode[] = new Array(Math.ceil(below.length / 2));
    for (let i = 0; i < below.length; i += 2) level[i / 2] = hashNode(below[i]!, below[i + 1] ?? PADDING);
    levels.push(level);
  }
  return {
    root: levels[levels.length - 1]![0]!,
    size: leaves.length,
    proof: (index) => {
      if (!Number.isInteger(index) || index < 0 || index >= leaves.length) throw new RangeError(`no leaf ${index}`);
      const steps: ProofStep[] = [];
      for (let level = 0, i = index; level < levels.length - 1; level++, i >>= 1) {
        const nodes = levels[level]!;
        const sibling = i % 2 === 0 ? (nodes[i + 1] ?? PADDING) : nodes[i - 1]!;
        steps.push({ hash: sibling.hash, sum: sibling.sum, side: i % 2 === 0 ? "right" : "left" });
      }
      return steps;
    },
  };
}

/**
 * Recomputes the root from a leaf and its proof. Fails (returns undefined) when any sum on the path
 * is negative or does not fit 256 bits — a proof cannot lower the total with a negative node.
 */
export function rootFromProof(leaf: SumNode, steps: readonly ProofStep[]): SumNode | undefined {
  let node = leaf;
  try {
    if (leaf.sum < 0n) return undefined;
    for (const step of steps) {
      if (step.sum < 0n || step.hash.length !== 32) return undefined;
      const sibling = { hash: step.hash, sum: step.sum };
      node = step.side === "left" ? hashNode(sibling, node) : hashNode(node, sibling);
    }
  } catch {
    return undefined;
  }
  return node;
}
