/**
 * A custodial user's proof of liability: the file a user downloads (`GET /v1/reserves/proof`) and
 * checks offline with `npm run audit -- verify-proof proof.json`. It needs nothing from the server:
 * the leaf is recomputed from the user's own id and balance, the path from the siblings in the file,
 * and the result must be the published root (compare `root` with the report, the API or the
 * ReserveAttestation event of that block — or pass it with `--root`).
 *
 * The leaf id hides the user among the leaves: `sha256("stablerail.liability.v1:" ‖ chainId ‖ ":" ‖
 * block ‖ ":" ‖ userId)` — bound to the attested block, so leaves of two attestations cannot be linked.
 * A sibling's sum still tells the size of the subtree next to the user's, as in every sum tree.
 */
import { hash } from "node:crypto";

import { z } from "zod";

import { hashLeaf, rootFromProof, type ProofStep, type SumNode } from "./merkle-sum-tree.ts";

export const LIABILITY_PROOF_KIND = "stablerail.liability-proof";

const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "a 0x-prefixed 32-byte hex string");
const decimal = z.string().regex(/^-?\d+$/, "a decimal integer string");

/** The proof file's schema: what `verify-proof` accepts. */
export const liabilityProofSchema = z.object({
  kind: z.literal(LIABILITY_PROOF_KIND),
  version: z.literal(1),
  chainId: z.number().int().positive(),
  block: decimal,
  token: z.string(),
  root: z.object({ hash: hex32, sum: decimal }),
  journalHead: z.object({ seq: decimal, hash: hex32.nullable() }),
  leaf: z.object({ userId: z.string().min(1), index: z.number().int().nonnegative(), balance: decimal }),
  path: z.array(z.object({ hash: hex32, sum: decimal, side: z.enum(["left", "right"]) })),
});

export type LiabilityProof = z.infer<typeof liabilityProofSchema>;

/** What every leaf id's message of one attested block starts with (the user id follows). */
export function liabilityLeafPrefix(chainId: number, block: bigint): string {
  return `stablerail.liability.v1:${chainId}:${block}:`;
}

/** The message whose SHA-256 is a user's leaf id at an attested block. */
export function liabilityLeafMessage(chainId: number, block: bigint, userId: string): string {
  return liabilityLeafPrefix(chainId, block) + userId;
}

/** The leaf id of a user at an attested block. */
export function liabilityLeafId(chainId: number, block: bigint, userId: string): Buffer {
  return hash("sha256", liabilityLeafMessage(chainId, block, userId), "buffer");
}

/** Builds the JSON proof of one leaf. */
export function liabilityProof({
  chainId,
  block,
  token,
  root,
  journalHead,
  userId,
  index,
  balance,
  steps,
}: {
  chainId: number;
  block: bigint;
  token: string;
  root: SumNode;
  journalHead: { seq: bigint; hash: string | null };
  userId: string;
  index: number;
  balance: bigint;
  steps: ProofStep[];
}): LiabilityProof {
  return {
    kind: LIABILITY_PROOF_KIND,
    version: 1,
    chainId,
    block: block.toString(),
    token,
    root: { hash: `0x${root.hash.toString("hex")}`, sum: root.sum.toString() },
    journalHead: { seq: journalHead.seq.toString(), hash: journalHead.hash },
    leaf: { userId, index, balance: balance.toString() },
    path: steps.map((step) => ({ hash: `0x${step.hash.toString("hex")}`, sum: step.sum.toString(), side: step.side })),
  };
}

export type ProofVerification = {
  ok: boolean;
  /** What was checked, or why it failed. */
  reason: string;
  /** The root the proof leads to (when it leads to one). */
  computedRoot?: { hash: string; sum: string } | undefined;
};

/**
 * Verifies a proof offline: the user's leaf, every sibling sum non-negative, the path up to the root
 * in the file (and to `expectedRoot`, the published one, when given).
 * @param input - the parsed JSON of a proof file
 */
export function verifyLiabilityProof(input: unknown, expectedRoot?: string): ProofVerification {
  const parsed = liabilityProofSchema.safeParse(input);
  if (!parsed.success)
    return {
      ok: false,
      reason: `not a liability proof: ${parsed.error.issues[0]?.path.join(".")} ${parsed.error.issues[0]?.message}`,
    };
  const proof = parsed.data;
  const balance = BigInt(proof.leaf.balance);
  if (balance < 0n) return { ok: false, reason: `the leaf's balance ${balance} is negative` };
  const negative = proof.path.findIndex((step) => BigInt(step.sum) < 0n);
  if (negative >= 0)
    return {
      ok: false,
      reason: `the node at level ${negative} of the path has a negative sum (${proof.path[negative]!.sum}): it could hide a liability`,
    };
  const leaf = hashLeaf(liabilityLeafId(proof.chainId, BigInt(proof.block), proof.leaf.userId), balance);
  const steps = proof.path.map((step) => ({
    hash: Buffer.from(step.hash.slice(2), "hex"),
    sum: BigInt(step.sum),
    side: step.side,
  }));
  const root = rootFromProof(leaf, steps);
  if (!root) return { ok: false, reason: "the path does not compute to a root (a sum overflows 256 bits)" };
  const computedRoot = { hash: `0x${root.hash.toString("hex")}`, sum: root.sum.toString() };
  if (computedRoot.hash !== proof.root.hash.toLowerCase() || computedRoot.sum !== proof.root.sum)
    return {
      ok: false,
      reason: `the path leads to root ${computedRoot.hash} (total ${computedRoot.sum}), not the proof's root ${proof.root.hash} (total ${proof.root.sum}): the balance, a sibling or the user id is not the one in the tree`,
      computedRoot,
    };
  if (expectedRoot && expectedRoot.toLowerCase() !== computedRoot.hash)
    return {
      ok: false,
      reason: `the proof leads to root ${computedRoot.hash}, not the published root ${expectedRoot}`,
      computedRoot,
    };
  return {
    ok: true,
    reason: `user ${proof.leaf.userId}'s balance ${balance} is included in the liabilities of chain ${proof.chainId} at block ${proof.block}: root ${computedRoot.hash}, total ${computedRoot.sum}${expectedRoot ? " (the published root)" : " — compare this root with the published one"}`,
    computedRoot,
  };
}
