/**
 * Balances at one block: every account and token the ledger knows, recomputed from its postings and
 * compared with the chain — each holder with `balanceOf`, each token's issuance account with
 * −`totalSupply`, and the escrow contract's `balanceOf` with its holder account plus every payment's
 * escrow account. Input: the ledger (paged) and a batched chain reader, both at the same block.
 * Output: counts, mismatches (without their first divergent block: the caller bisects), and each
 * payment's escrow-account balance for the payment check.
 *
 * The next page of the ledger is read while the chain answers for the current one, so database and
 * node work at the same time.
 */
import { getAddress, type Abi, type Address } from "viem";

import { stablecoinAbi } from "../../lib/chain/abis/stablecoin.ts";
import type { Database } from "../../lib/db/database.ts";
import type { Progress } from "../report/progress.ts";
import type { ChainReader, ContractRead } from "./chain-reads.ts";
import { countLedgerAccounts, pageLedgerBalances, type LedgerBalance } from "./ledger-reads.ts";
import type { Mismatch } from "./mismatch.ts";

export type BalancesResult = {
  /** (account, token) pairs compared. */
  accounts: number;
  /** Of which holder accounts read with balanceOf. */
  holders: number;
  tokens: Address[];
  mismatches: Mismatch[];
  /** Each payment's escrow:<id> balance, by lower-case payment id. */
  escrowAccounts: Map<string, bigint>;
  /** Per token: Σ over the holders the ledger knows, and what the chain says they hold. */
  holderTotals: Map<Address, { ledger: bigint; chain: bigint }>;
};

const tokenAbi = stablecoinAbi as Abi;

/**
 * Reconciles every ledger balance at `block` against the chain.
 * @param parameters.escrow - the PaymentEscrow address (its holder account is checked with the payments' accounts)
 */
export async function reconcileBalances({
  database,
  reader,
  chainId,
  block,
  escrow,
  pageSize = 5_000,
  progress,
}: {
  database: Database;
  reader: ChainReader;
  chainId: number;
  block: bigint;
  escrow?: Address | undefined;
  pageSize?: number;
  progress?: Progress | undefined;
}): Promise<BalancesResult> {
  const escrowHolder = escrow ? `holder:${getAddress(escrow)}` : undefined;
  const mismatches: Mismatch[] = [];
  const escrowAccounts = new Map<string, bigint>();
  const escrowTotals = new Map<Address, bigint>();
  const issuance = new Map<Address, bigint>();
  const holderTotals = new Map<Address, { ledger: bigint; chain: bigint }>();
  const tokens = new Set<Address>();
  let accounts = 0;
  let holders = 0;

  // The bar's total: accounts the ledger knows now (those first seen after `block` make it an upper bound).
  progress?.start(progress.active ? await countLedgerAccounts(database, { chainId }) : 0, "accounts", "balances");
  const pages = pageLedgerBalances(database, { chainId, block, pageSize });
  let pending = pages.next();
  for (;;) {
    const page = await pending;
    if (page.done) break;
    pending = pages.next(); // the next page is read while the chain answers for this one
    const rows = page.value;
    accounts += rows.length;
    const holderRows: LedgerBalance[] = [];
    for (const row of rows) {
      tokens.add(row.token);
      if (row.balance !== row.storedBalance)
        mismatches.push({
          check: "running_balance",
          account: row.account,
          token: row.token,
          expected: row.balance.toString(),
          found: row.storedBalance.toString(),
          message: `${row.account}: the running balance stored on its last posting (block ${row.lastBlock}) is ${row.storedBalance}, but its postings sum to ${row.balance}`,
        });
      const [type] = row.account.split(":", 1);
      if (row.account === escrowHolder || type === "escrow") {
        escrowTotals.set(row.token, (escrowTotals.get(row.token) ?? 0n) + row.balance);
        if (type === "escrow") escrowAccounts.set(row.account.slice("escrow:".length).toLowerCase(), row.balance);
      } else if (type === "issuance") {
        issuance.set(row.token, row.balance);
      } else if (type === "holder") {
        holderRows.push(row);
      }
    }
    const calls: ContractRead[] = holderRows.map((row) => ({
      address: row.token,
      abi: tokenAbi,
      functionName: "balanceOf",
      args: [row.account.slice("holder:".length) as Address],
    }));
    const results = await reader.readAll(calls, block);
    holders += holderRows.length;
    holderRows.forEach((row, i) => {
      const result = results[i]!;
      const totals = holderTotals.get(row.token) ?? { ledger: 0n, chain: 0n };
      totals.ledger += row.balance;
      holderTotals.set(row.token, totals);
      if (result.status === "failure") {
        mismatches.push({
          check: "balance",
          account: row.account,
          token: row.token,
          expected: `balanceOf failed: ${result.error}`,
          found: row.balance.toString(),
          message: `${row.account}: the chain did not answer balanceOf at block ${block} (${result.error})`,
        });
        return;
      }
      const onChain = result.result as bigint;
      totals.chain += onChain;
      if (onChain !== row.balance)
        mismatches.push({
          check: "balance",
          account: row.account,
          token: row.token,
          expected: onChain.toString(),
          found: row.balance.toString(),
          message: `${row.account} holds ${onChain} of ${row.token} on chain at block ${block}; the ledger says ${row.balance} (difference ${row.balance - onChain})`,
        });
    });
    progress?.tick(rows.length);
  }
  progress?.done();

  // Per token: −totalSupply and the escrow's balanceOf, in one batch.
  const tokenList = [...tokens];
  const calls: ContractRead[] = tokenList.flatMap((token) => [
    { address: token, abi: tokenAbi, functionName: "totalSupply" },
    ...(escrow ? [{ address: token, abi: tokenAbi, functionName: "balanceOf", args: [escrow] }] : []),
  ]);
  const results = await reader.readAll(calls, block);
  const perToken = escrow ? 2 : 1;
  tokenList.forEach((token, i) => {
    const supply = results[i * perToken]!;
    const ledgerIssuance = issuance.get(token) ?? 0n;
    const expected = supply.status === "success" ? -(supply.result as bigint) : undefined;
    if (expected !== ledgerIssuance)
      mismatches.push({
        check: "issuance",
        account: `issuance:${token}`,
        token,
        expected: expected?.toString() ?? "totalSupply failed",
        found: ledgerIssuance.toString(),
        message: `issuance:${token} is ${ledgerIssuance} in the ledger; −totalSupply on chain at block ${block} is ${expected ?? "unreadable"}`,
      });
    if (!escrow) return;
    const held = results[i * perToken + 1]!;
    const onChain = held.status === "success" ? (held.result as bigint) : undefined;
    const ledgerHeld = escrowTotals.get(token) ?? 0n;
    if (onChain !== ledgerHeld)
      mismatches.push({
        check: "escrow_total",
        account: `holder:${getAddress(escrow)} + escrow:*`,
        token,
        expected: onChain?.toString() ?? "balanceOf failed",
        found: ledgerHeld.toString(),
        message: `the escrow contract holds ${onChain ?? "an unreadable amount"} of ${token} at block ${block}; its holder account and the payments' escrow accounts sum to ${ledgerHeld}`,
      });
  });
  return { accounts, holders, tokens: tokenList, mismatches, escrowAccounts, holderTotals };
}

/** The address a holder account names, or undefined for other account types. */
export function holderAddress(account: string): Address | undefined {
  return account.startsWith("holder:") ? (account.slice("holder:".length) as Address) : undefined;
}
