/**
 * `npm run audit -- reserves [--block N]`: proof of reserves and liabilities at one block. Input: the
 * custodial wallets (whose balances the platform owes its users), the ledger at the block, the chain
 * at the block. Output: a {@link ReservesReport} — the Merkle sum tree's root over one leaf per
 * custodial user (their ledger balance), the total liabilities, the reserves (what the custodial
 * addresses hold on chain, read with batched balanceOf) and their ratio, the block and the journal
 * chain head — and each user's inclusion proof on demand.
 */
import { hash } from "node:crypto";

import { sql } from "drizzle-orm";
import type { Abi, Address, Hex, PublicClient } from "viem";

import { stablecoinAbi } from "../../lib/chain/abis/stablecoin.ts";
import { holderAccount } from "../../lib/ledger/accounts.ts";
import type { Database } from "../../lib/db/database.ts";
import { NotFoundError, ValidationError } from "../../lib/errors/base.ts";
import type { Progress } from "../report/progress.ts";
import { createChainReader } from "../reconcile/chain-reads.ts";
import { readLedgerHead } from "../reconcile/ledger-reads.ts";
import { readCustodialAccounts, type CustodialAccount } from "./custodial-accounts.ts";
import { liabilityLeafPrefix, liabilityProof, type LiabilityProof } from "./liability-proof.ts";
import { buildMerkleSumTreeOfIds, type MerkleSumTree } from "./merkle-sum-tree.ts";

export type ReservesReport = {
  kind: "stablerail.reserves";
  version: 1;
  chainId: number;
  generatedAt: string;
  block: { number: bigint; hash: Hex };
  token: Address;
  /** The Merkle sum tree's root hash (its sum is `totalLiabilities`). */
  root: Hex;
  totalLiabilities: bigint;
  reserves: bigint;
  /** reserves / liabilities with 6 decimals ("1.000000"); "n/a" without liabilities. */
  ratio: string;
  /** Leaves (custodial users) and the custodial addresses behind them. */
  users: number;
  addresses: number;
  journalHead: { seq: bigint; hash: Hex | null };
};

export type ReservesSnapshot = {
  report: ReservesReport;
  /** The inclusion proof of one custodial user (undefined for a user with no custodial wallet). */
  proofFor: (userId: string) => LiabilityProof | undefined;
  /** The users with a leaf, in leaf order. */
  userIds: () => string[];
};

/**
 * Builds the liabilities tree and the reserves comparison at one block.
 * @param parameters.custodialAccounts - the custodial wallets (default: read from the `wallets` table)
 */
export async function buildReserves(
  database: Database,
  client: PublicClient,
  {
    chainId,
    token,
    block,
    custodialAccounts,
    multicall3,
    progress,
  }: {
    chainId: number;
    token: Address;
    block?: bigint | undefined;
    custodialAccounts?: CustodialAccount[] | undefined;
    multicall3?: Address | undefined;
    progress?: Progress | undefined;
  },
): Promise<ReservesSnapshot> {
  const head = await readLedgerHead(database, { chainId });
  if (!head) throw new NotFoundError("AUDIT_LEDGER_EMPTY", `The ledger has indexed nothing of chain ${chainId} yet`);
  const at = block ?? head.number;
  if (at > head.number)
    throw new ValidationError(
      "AUDIT_BLOCK_NOT_INDEXED",
      `The ledger is indexed up to block ${head.number} (asked: ${at})`,
    );
  const accounts = custodialAccounts ?? (await readCustodialAccounts(database));
  if (accounts.length === 0)
    throw new NotFoundError("AUDIT_NO_CUSTODIAL_WALLETS", "There is no custodial wallet: no liabilities to prove");
  const chainBlock = await client.getBlock({ blockNumber: at });

  progress?.start(accounts.length, "addresses", "liabilities");
  const ledger = new Map<Address, bigint>();
  const PAGE = 5_000;
  for (let i = 0; i < accounts.length; i += PAGE) {
    const page = accounts.slice(i, i + PAGE);
    const rows = await database.query<{ account: string; balance: string }>(sql`
      SELECT account, sum(amount)::text AS balance FROM postings
      WHERE chain_id = ${chainId} AND token = ${token} AND block_number <= ${at}
        AND account IN (SELECT jsonb_array_elements_text(${JSON.stringify(page.map((a) => holderAccount(a.address)))}::jsonb))
      GROUP BY account`);
    for (const row of rows) ledger.set(row.account.slice("holder:".length) as Address, BigInt(row.balance));
    progress?.tick(page.length);
  }
  progress?.done();

  const reader = createChainReader(client, { multicallAddress: multicall3 });
  const onChain = await reader.readAll(
    accounts.map((a) => ({ address: token, abi: stablecoinAbi as Abi, functionName: "balanceOf", args: [a.address] })),
    at,
  );
  let reserves = 0n;
  onChain.forEach((result, i) => {
    if (result.status !== "success")
      throw new ValidationError(
        "AUDIT_RESERVES_UNREADABLE",
        `balanceOf(${accounts[i]!.address}) failed at block ${at}: ${result.error}`,
      );
    reserves += result.result as bigint;
  });

  const byUser = new Map<string, bigint>();
  for (const account of accounts)
    byUser.set(account.userId, (byUser.get(account.userId) ?? 0n) + (ledger.get(account.address) ?? 0n));
  // A negative ledger balance cannot be a liability leaf: the tree refuses it, and so does this report.
  for (const [userId, balance] of byUser)
    if (balance < 0n)
      throw new ValidationError(
        "AUDIT_NEGATIVE_LIABILITY",
        `user ${userId} has a negative ledger balance ${balance} at block ${at}; reconcile first`,
      );
  const { leaves, tree } = buildLiabilitiesTree(chainId, at, byUser);
  const indexOf = new Map(leaves.map((leaf, index) => [leaf.userId, index]));
  const liabilities = tree.root.sum;
  const report: ReservesReport = {
    kind: "stablerail.reserves",
    version: 1,
    chainId,
    generatedAt: new Date().toISOString(),
    block: { number: at, hash: chainBlock.hash! },
    token,
    root: `0x${tree.root.hash.toString("hex")}`,
    totalLiabilities: liabilities,
    reserves,
    ratio: liabilities === 0n ? "n/a" : formatRatio(reserves, liabilities),
    users: leaves.length,
    addresses: accounts.length,
    journalHead: head.journal,
  };
  return {
    report,
    userIds: () => leaves.map((leaf) => leaf.userId),
    proofFor: (userId) => {
      const index = indexOf.get(userId);
      if (index === undefined) return undefined;
      return liabilityProof({
        chainId,
        block: at,
        token,
        root: tree.root,
        journalHead: head.journal,
        userId,
        index,
        balance: leaves[index]!.balance,
        steps: tree.proof(index),
      });
    },
  };
}

/**
 * The liabilities tree of one block, pure: one leaf per user, in the order of their leaf ids — which
 * reveals nothing about users (not their sign-up order).
 * @param balances - each user's liability (≥ 0) at the block
 * @returns the leaves in tree order and the tree
 */
export function buildLiabilitiesTree(
  chainId: number,
  block: bigint,
  balances: Iterable<[userId: string, balance: bigint]>,
): { leaves: { userId: string; balance: bigint }[]; tree: MerkleSumTree } {
  const users = [...balances];
  const count = users.length;
  // Leaf ids in one flat buffer, hashed into latin1 strings (no Buffer per id: see merkle-sum-tree.ts).
  const ids = Buffer.alloc(32 * count);
  // The prefix once: formatting the block (a bigint) for each of a million users was a visible cost.
  const prefix = liabilityLeafPrefix(chainId, block);
  for (let i = 0; i < count; i++) ids.write(hash("sha256", prefix + users[i]![0], "binary"), 32 * i, 32, "latin1");
  const order = leafOrder(ids, count);
  const sortedIds = Buffer.alloc(32 * count);
  const leaves = new Array<{ userId: string; balance: bigint }>(count);
  const sortedBalances = new Array<bigint>(count);
  for (let position = 0; position < count; position++) {
    const i = order[position]!;
    ids.copy(sortedIds, 32 * position, 32 * i, 32 * i + 32);
    const [userId, balance] = users[i]!;
    leaves[position] = { userId, balance };
    sortedBalances[position] = balance;
  }
  return { leaves, tree: buildMerkleSumTreeOfIds(sortedIds, sortedBalances) };
}

/**
 * The users' indexes in the order of their 32-byte ids (ties — equal ids — by index). A comparator
 * sort of a million ids costs more than hashing the whole tree, so the ids' leading bits and the
 * index are packed into one exactly representable double (at most 52 bits) and sorted natively;
 * only the few neighbours whose leading bits agree are then compared in full.
 */
export function leafOrder(ids: Buffer, count: number): Uint32Array {
  const indexBits = Math.max(1, Math.ceil(Math.log2(count)));
  const keyBits = 52 - indexBits; // ≥ 20 for any array JavaScript can hold
  const scale = 2 ** indexBits;
  const keys = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const lead = ids.readUIntBE(32 * i, 6); // 48 bits
    keys[i] = Math.floor(lead / 2 ** Math.max(0, 48 - keyBits)) * scale + i;
  }
  keys.sort();
  const order = new Uint32Array(count);
  for (let position = 0; position < count; position++) order[position] = keys[position]! % scale;
  const compareIds = (a: number, b: number) => ids.compare(ids, 32 * b, 32 * b + 32, 32 * a, 32 * a + 32) || a - b;
  for (let start = 0; start < count;) {
    let end = start + 1;
    const lead = Math.floor(keys[start]! / scale);
    while (end < count && Math.floor(keys[end]! / scale) === lead) end++;
    if (end - start > 1) order.subarray(start, end).sort(compareIds);
    start = end;
  }
  return order;
}

/** a / b as a decimal string with 6 places, rounded down, from bigints. */
function formatRatio(a: bigint, b: bigint): string {
  const scaled = (a * 1_000_000n) / b;
  return `${scaled / 1_000_000n}.${(scaled % 1_000_000n).toString().padStart(6, "0")}`;
}
