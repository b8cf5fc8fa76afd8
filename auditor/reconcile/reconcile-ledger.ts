/**
 * `npm run audit -- reconcile [--block N]`: the ledger against the chain at one block. Input:
 * read-only database access, a JSON-RPC client, the contract addresses. Output: a
 * {@link ReconciliationReport} — totals, the indexed head and journal chain head it was made
 * against, and every mismatch with the first block where ledger and chain diverge.
 *
 * Order of work: balances at the block (every account and token, batched reads), escrow payments at
 * the block, completeness over the block range (both ways), then bisection of each state mismatch
 * to its first divergent block (a handful of single reads per mismatch).
 */
import type { Abi, Address, Hex, PublicClient } from "viem";

import { paymentEscrowAbi } from "../../lib/chain/abis/paymentEscrow.ts";
import { stablecoinAbi } from "../../lib/chain/abis/stablecoin.ts";
import type { Database } from "../../lib/db/database.ts";
import { NotFoundError, ValidationError } from "../../lib/errors/base.ts";
import { sql } from "../../lib/db/database.ts";
import type { Progress } from "../report/progress.ts";
import { reconcileBalances } from "./balances.ts";
import { firstDivergentBlock } from "./bisect.ts";
import type { AuditedContracts } from "./chain-logs.ts";
import { createChainReader } from "./chain-reads.ts";
import { checkCompleteness } from "./completeness.ts";
import {
  ledgerBalanceAt,
  ledgerBlockHash,
  ledgerEscrowTotalAt,
  ledgerFirstBlock,
  ledgerPaymentAt,
  readLedgerHead,
} from "./ledger-reads.ts";
import type { Mismatch } from "./mismatch.ts";
import { PAYMENT_STATUS_NONE, reconcilePayments, type OnChainPaymentState } from "./payments.ts";

export type ReconcileParameters = {
  chainId: number;
  contracts: AuditedContracts;
  /** A Multicall3 to batch reads through (deployless when absent or not deployed at the block). */
  multicall3?: Address | undefined;
  /** The block to reconcile at; default the indexed head. */
  block?: bigint | undefined;
  /** First block of the completeness range (default: the deployment's start block, else the ledger's first). */
  fromBlock?: bigint | undefined;
  /** Check completeness over fromBlock..block (default true). */
  completeness?: boolean | undefined;
  /** Bisect at most this many state mismatches (default 100; the rest say so). */
  bisectLimit?: number | undefined;
  pageSize?: number | undefined;
  batchSize?: number | undefined;
  concurrency?: number | undefined;
  progress?: Progress | undefined;
};

export type ReconciliationReport = {
  kind: "stablerail.reconciliation";
  version: 1;
  ok: boolean;
  chainId: number;
  generatedAt: string;
  block: { number: bigint; hash: Hex; ledgerHash: Hex | null };
  indexedHead: { number: bigint; hash: Hex };
  /** The journal hash chain's tip when the report was made: pin it to prove later the ledger was not rewritten. */
  journalHead: { seq: bigint; hash: Hex | null };
  contracts: AuditedContracts;
  reads: { mode: string; multicallAddress: Address | null; batchSize: number };
  range: { from: bigint; to: bigint } | null;
  totals: {
    accounts: number;
    holders: number;
    tokens: number;
    payments: number;
    logs: number;
    transfers: number;
    entries: number;
    events: number;
    mismatches: number;
  };
  /** Per token: supply on chain, and the holders' totals on both sides. */
  tokens: { token: Address; totalSupply: bigint; ledgerHolders: bigint; chainHolders: bigint }[];
  /** The earliest first divergent block over every mismatch (null when all agree). */
  firstDivergentBlock: bigint | null;
  mismatches: Mismatch[];
  durationMs: number;
};

/**
 * Reconciles the ledger with the chain at one block.
 * @throws NotFoundError AUDIT_LEDGER_EMPTY when the ledger has never indexed this chain
 * @throws ValidationError AUDIT_BLOCK_NOT_INDEXED when the block is above the indexed head
 * @example
 * const report = await reconcileLedger(database, client, { chainId: 31337, contracts: { token, escrow, settlement } });
 * process.exitCode = report.ok ? 0 : 1;
 */
export async function reconcileLedger(
  database: Database,
  client: PublicClient,
  parameters: ReconcileParameters,
): Promise<ReconciliationReport> {
  const started = performance.now();
  const { chainId, contracts, progress } = parameters;
  const head = await readLedgerHead(database, { chainId });
  if (!head || head.number < 0n)
    throw new NotFoundError("AUDIT_LEDGER_EMPTY", `The ledger has indexed nothing of chain ${chainId} yet`);
  const block = parameters.block ?? head.number;
  if (block > head.number)
    throw new ValidationError(
      "AUDIT_BLOCK_NOT_INDEXED",
      `The ledger is indexed up to block ${head.number}; reconcile at that block or below (asked: ${block})`,
    );
  const chainBlock = await client.getBlock({ blockNumber: block });
  const ledgerHash = (await ledgerBlockHash(database, { chainId, number: block })) ?? null;
  const mismatches: Mismatch[] = [];
  if (ledgerHash && ledgerHash.toLowerCase() !== chainBlock.hash!.toLowerCase())
    mismatches.push({
      check: "block_hash",
      expected: chainBlock.hash!,
      found: ledgerHash,
      firstDivergentBlock: block,
      message: `the ledger's block ${block} is ${ledgerHash}, the node's is ${chainBlock.hash}: the ledger follows another branch (a reorg it has not seen yet)`,
    });

  const reader = createChainReader(client, {
    multicallAddress: parameters.multicall3,
    batchSize: parameters.batchSize,
    concurrency: parameters.concurrency,
  });
  const balances = await reconcileBalances({
    database,
    reader,
    chainId,
    block,
    escrow: contracts.escrow,
    pageSize: parameters.pageSize,
    progress,
  });
  mismatches.push(...balances.mismatches);
  const payments = contracts.escrow
    ? await reconcilePayments({
        database,
        reader,
        chainId,
        block,
        escrow: contracts.escrow,
        escrowAccounts: balances.escrowAccounts,
        pageSize: parameters.pageSize,
        progress,
      })
    : { payments: 0, mismatches: [] };
  mismatches.push(...payments.mismatches);

  const from = parameters.fromBlock ?? (await ledgerFirstBlock(database, { chainId })) ?? block;
  const completeness =
    parameters.completeness === false
      ? undefined
      : await checkCompleteness({ database, client, chainId, contracts, from, to: block, progress });
  if (completeness) mismatches.push(...completeness.mismatches);

  await locateDivergence(database, client, {
    chainId,
    contracts,
    low: from - 1n,
    high: block,
    mismatches,
    limit: parameters.bisectLimit ?? 100,
  });
  mismatches.sort(
    (a, b) =>
      Number((a.firstDivergentBlock ?? block + 1n) - (b.firstDivergentBlock ?? block + 1n)) ||
      a.check.localeCompare(b.check),
  );
  const first = mismatches.reduce<bigint | null>(
    (min, m) =>
      m.firstDivergentBlock !== undefined && (min === null || m.firstDivergentBlock < min)
        ? m.firstDivergentBlock
        : min,
    null,
  );
  const supplies = await reader.readAll(
    balances.tokens.map((token) => ({ address: token, abi: stablecoinAbi as Abi, functionName: "totalSupply" })),
    block,
  );
  return {
    kind: "stablerail.reconciliation",
    version: 1,
    ok: mismatches.length === 0,
    chainId,
    generatedAt: new Date().toISOString(),
    block: { number: block, hash: chainBlock.hash!, ledgerHash },
    indexedHead: { number: head.number, hash: head.hash },
    journalHead: head.journal,
    contracts,
    reads: {
      mode: reader.mode,
      multicallAddress: reader.multicallAddress ?? null,
      batchSize: parameters.batchSize ?? 500,
    },
    range: completeness ? { from, to: block } : null,
    totals: {
      accounts: balances.accounts,
      holders: balances.holders,
      tokens: balances.tokens.length,
      payments: payments.payments,
      logs: completeness?.logs ?? 0,
      transfers: completeness?.transfers ?? 0,
      entries: completeness?.entries ?? 0,
      events: completeness?.events ?? 0,
      mismatches: mismatches.length,
    },
    tokens: balances.tokens.map((token, i) => ({
      token,
      totalSupply: supplies[i]?.status === "success" ? (supplies[i]!.result as bigint) : -1n,
      ledgerHolders: balances.holderTotals.get(token)?.ledger ?? 0n,
      chainHolders: balances.holderTotals.get(token)?.chain ?? 0n,
    })),
    firstDivergentBlock: first,
    mismatches,
    durationMs: Math.round(performance.now() - started),
  };
}

/**
 * Sets `firstDivergentBlock` on each state mismatch: by bisection between `low` (nothing recorded on
 * either side) and `high` for chain-vs-ledger checks, exactly from the postings for running balances.
 */
async function locateDivergence(
  database: Database,
  client: PublicClient,
  {
    chainId,
    contracts,
    low,
    high,
    mismatches,
    limit,
  }: { chainId: number; contracts: AuditedContracts; low: bigint; high: bigint; mismatches: Mismatch[]; limit: number },
): Promise<void> {
  const read = (address: Address, abi: Abi, functionName: string, args: unknown[], blockNumber: bigint) =>
    client.readContract({ address, abi, functionName, args, blockNumber });
  let bisected = 0;
  for (const mismatch of mismatches) {
    if (mismatch.firstDivergentBlock !== undefined) continue;
    if (mismatch.check === "running_balance") {
      mismatch.firstDivergentBlock = await firstRunningBalanceBreak(
        database,
        chainId,
        mismatch.account!,
        mismatch.token!,
      );
      continue;
    }
    const agrees = probeFor(mismatch);
    if (!agrees) continue;
    if (bisected++ >= limit) {
      mismatch.message += ` (not bisected: more than ${limit} mismatches)`;
      continue;
    }
    const { block } = await firstDivergentBlock({ low, high, agrees });
    mismatch.firstDivergentBlock = block;
    mismatch.message += `; they first diverge at block ${block}`;
  }

  function probeFor(mismatch: Mismatch): ((block: bigint) => Promise<boolean>) | undefined {
    const token = mismatch.token;
    switch (mismatch.check) {
      case "balance": {
        const holder = mismatch.account!.slice("holder:".length) as Address;
        return async (block) =>
          (await ledgerBalanceAt(database, { chainId, account: mismatch.account!, token: token!, block })) ===
          ((await read(token!, stablecoinAbi as Abi, "balanceOf", [holder], block)) as bigint);
      }
      case "issuance":
        return async (block) =>
          (await ledgerBalanceAt(database, { chainId, account: mismatch.account!, token: token!, block })) ===
          -((await read(token!, stablecoinAbi as Abi, "totalSupply", [], block)) as bigint);
      case "escrow_total":
        return async (block) =>
          (await ledgerEscrowTotalAt(database, { chainId, escrow: contracts.escrow!, token: token!, block })) ===
          ((await read(token!, stablecoinAbi as Abi, "balanceOf", [contracts.escrow!], block)) as bigint);
      case "payment": {
        const paymentId = mismatch.paymentId!;
        return async (block) => {
          const state = (await read(
            contracts.escrow!,
            paymentEscrowAbi as Abi,
            "paymentState",
            [paymentId],
            block,
          )) as OnChainPaymentState;
          const ledger = await ledgerPaymentAt(database, { chainId, paymentId, block });
          const account = await ledgerBalanceAt(database, {
            chainId,
            account: `escrow:${paymentId.toLowerCase()}`,
            token: token ?? contracts.token,
            block,
          });
          if (!ledger) return state.status === PAYMENT_STATUS_NONE && account === 0n;
          return (
            state.status !== PAYMENT_STATUS_NONE &&
            state.held === ledger.held &&
            state.captured === ledger.captured &&
            state.refunded === ledger.refunded &&
            account === state.held
          );
        };
      }
      default:
        return undefined;
    }
  }
}

/** The block of the first posting whose stored running balance is not the sum of the postings up to it. */
async function firstRunningBalanceBreak(
  database: Database,
  chainId: number,
  account: string,
  token: Address,
): Promise<bigint | undefined> {
  const [row] = await database.query<{ block: string }>(sql`
    SELECT block_number::text AS block FROM (
      SELECT block_number, log_index, leg, balance_after,
        sum(amount) OVER (ORDER BY block_number, log_index, leg) AS running
      FROM postings WHERE chain_id = ${chainId} AND account = ${account} AND token = ${token}) p
    WHERE balance_after <> running ORDER BY p.block_number, p.log_index, p.leg LIMIT 1`);
  return row ? BigInt(row.block) : undefined;
}
