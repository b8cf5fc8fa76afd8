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
 *
 * Layout (why it is not a tree of objects): each level is one flat Buffer of 129-byte pairs,
 * `0x01 ‖ hL ‖ sL ‖ hR ‖ sR` — exactly the message that hashes to their parent, so a parent is one
 * SHA-256 over a view of the level, with nothing copied or concatenated. A million-leaf tree built of
 * a Buffer and an object per node spent a third of its time in the garbage collector.
 */
import { hash } from "node:crypto";

export type SumNode = { hash: Buffer; sum: bigint };

/** One step of an inclusion proof: the sibling's hash and sum, and on which side it sits. */
export type ProofStep = { hash: Buffer; sum: bigint; side: "left" | "right" };

const MAX_SUM = (1n << 256n) - 1n;
const MAX_UINT64 = (1n << 64n) - 1n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const sha256 = (input: Uint8Array): Buffer => hash("sha256", input, "buffer");
/**
 * SHA-256 as a 32-character latin1 string (Node's "binary" encoding), one character per byte. A string costs V8 far less than a
 * Buffer (which owns a backing store the collector tracks): hashing into strings and writing them
 * into the level buffers is about 4× faster than `"buffer"` output at a million hashes.
 */
const sha256Bytes = (input: Uint8Array): string => hash("sha256", input, "binary");
const PADDING: SumNode = { hash: sha256(Buffer.from([2])), sum: 0n };

/** Bytes of one pair in a level: the 0x01 tag and two (hash, sum) records. */
const PAIR = 1 + 64 + 64;

// Reused for single nodes (hashLeaf, hashNode, the proof check): one-shot `crypto.hash` copies its input.
const leafInput = Buffer.alloc(1 + 32 + 32);
leafInput[0] = 0;
const nodeInput = Buffer.alloc(PAIR);
nodeInput[0] = 1;

/** Writes a 256-bit unsigned integer as 32 big-endian bytes at `offset`. @throws RangeError outside 0..2^256−1 */
function writeUint256(target: Buffer, offset: number, value: bigint): void {
  if (value < 0n || value > MAX_SUM) throw new RangeError(`not a uint256: ${value}`);
  target.fill(0, offset, offset + 24);
  if (value <= MAX_SAFE) {
    // Two 32-bit words from one Number: cheaper than BigInt shifts for every balance that fits.
    const n = Number(value);
    target.writeUInt32BE(Math.floor(n / 2 ** 32), offset + 24);
    target.writeUInt32BE(n >>> 0, offset + 28);
    return;
  }
  for (let word = 0; word < 4; word++)
    target.writeBigUInt64BE((value >> BigInt(192 - 64 * word)) & MAX_UINT64, offset + 8 * word);
}

/** Reads 32 big-endian bytes at `offset` as an unsigned integer. */
function readUint256(source: Buffer, offset: number): bigint {
  let value = 0n;
  for (let word = 0; word < 4; word++) value = (value << 64n) | source.readBigUInt64BE(offset + 8 * word);
  return value;
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

/** Where node `index` of a level sits in its level's buffer (the start of its hash). */
const recordOffset = (index: number) => (index >> 1) * PAIR + 1 + (index & 1) * 64;

/** An empty level of `count` nodes: every pair tagged 0x01, an odd last pair padded on the right. */
function allocateLevel(count: number): Buffer {
  const level = Buffer.alloc(Math.ceil(count / 2) * PAIR);
  for (let offset = 0; offset < level.length; offset += PAIR) level[offset] = 1;
  if (count % 2 === 1) PADDING.hash.copy(level, recordOffset(count)); // its sum stays 0
  return level;
}

/**
 * Builds the tree over `leaves` in the order given.
 * @param leaves - at least one leaf, each from {@link hashLeaf}
 * @example
 * const tree = buildMerkleSumTree(users.map((u) => hashLeaf(u.id, u.balance)));
 * tree.root.sum; // total liabilities
 */
export function buildMerkleSumTree(leaves: readonly SumNode[]): MerkleSumTree {
  if (leaves.length === 0) throw new RangeError("a Merkle sum tree needs at least one leaf");
  const level = allocateLevel(leaves.length);
  const sums = new Array<bigint>(leaves.length);
  leaves.forEach((leaf, index) => {
    if (leaf.hash.length !== 32) throw new RangeError("a node hash is 32 bytes");
    const offset = recordOffset(index);
    leaf.hash.copy(level, offset);
    writeUint256(level, offset + 32, leaf.sum);
    sums[index] = leaf.sum;
  });
  return buildLevels(level, sums);
}

/**
 * Builds the tree of liabilities given as flat leaf ids, hashing the leaves itself — the path for a
 * million users, with no Buffer or object per leaf.
 * @param ids - `32 · n` bytes: leaf `i`'s id at `32 · i`
 * @param balances - leaf `i`'s balance (≥ 0), `n` of them
 */
export function buildMerkleSumTreeOfIds(ids: Buffer, balances: readonly bigint[]): MerkleSumTree {
  const count = balances.length;
  if (count === 0) throw new RangeError("a Merkle sum tree needs at least one leaf");
  if (ids.length !== 32 * count) throw new RangeError(`${count} leaf ids are ${32 * count} bytes, not ${ids.length}`);
  const level = allocateLevel(count);
  for (let index = 0; index < count; index++) {
    const balance = balances[index]!;
    ids.copy(leafInput, 1, 32 * index, 32 * index + 32);
    writeUint256(leafInput, 33, balance);
    const offset = recordOffset(index);
    level.write(sha256Bytes(leafInput), offset, 32, "latin1");
    writeUint256(level, offset + 32, balance);
  }
  return buildLevels(level, balances);
}

/** The levels above the leaves, the root, and the proofs read back from the level buffers. */
function buildLevels(leafLevel: Buffer, leafSums: readonly bigint[]): MerkleSumTree {
  const size = leafSums.length;
  const levels: Buffer[] = [leafLevel];
  const counts: number[] = [size];
  let sums = leafSums;
  while (counts[counts.length - 1]! > 1) {
    const below = levels[levels.length - 1]!;
    const count = Math.ceil(counts[counts.length - 1]! / 2);
    const level = allocateLevel(count);
    const parentSums = new Array<bigint>(count);
    for (let pair = 0; pair < count; pair++) {
      const sum = sums[2 * pair]! + (sums[2 * pair + 1] ?? 0n);
      if (sum > MAX_SUM) throw new RangeError(`the sum ${sum} does not fit 256 bits`);
      const offset = recordOffset(pair);
      level.write(sha256Bytes(below.subarray(pair * PAIR, pair * PAIR + PAIR)), offset, 32, "latin1");
      writeUint256(level, offset + 32, sum);
      parentSums[pair] = sum;
    }
    levels.push(level);
    counts.push(count);
    sums = parentSums;
  }
  const top = levels[levels.length - 1]!;
  const nodeAt = (level: number, index: number): SumNode => {
    if (index >= counts[level]!) return PADDING;
    const offset = recordOffset(index);
    const buffer = levels[level]!;
    return { hash: Buffer.from(buffer.subarray(offset, offset + 32)), sum: readUint256(buffer, offset + 32) };
  };
  return {
    root: { hash: Buffer.from(top.subarray(recordOffset(0), recordOffset(0) + 32)), sum: sums[0]! },
    size,
    proof: (index) => {
      if (!Number.isInteger(index) || index < 0 || index >= size) throw new RangeError(`no leaf ${index}`);
      const steps: ProofStep[] = [];
      for (let level = 0, i = index; level < levels.length - 1; level++, i >>= 1) {
        const sibling = nodeAt(level, i ^ 1);
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
