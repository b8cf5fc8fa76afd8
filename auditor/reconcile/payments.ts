/**
 * Escrow payments at one block: every payment the ledger knows, its held / captured / refunded
 * compared with `PaymentEscrow.paymentState` read from the chain at that block, and its
 * `escrow:<paymentId>` account compared with what the contract holds for it. Input: the ledger's
 * payment states (paged), each payment's escrow-account balance (from the balances pass) and a
 * batched chain reader. Output: counts and mismatches (the caller bisects).
 */
import type { Abi, Address, Hex } from "viem";

import { paymentEscrowAbi } from "../../lib/chain/abis/paymentEscrow.ts";
import type { Database } from "../../lib/db/database.ts";
import type { Progress } from "../report/progress.ts";
import type { ChainReader } from "./chain-reads.ts";
import { countLedgerPayments, pageLedgerPayments } from "./ledger-reads.ts";
import type { Mismatch } from "./mismatch.ts";

/** What PaymentEscrow.paymentState returns. */
export type OnChainPaymentState = { held: bigint; captured: bigint; refunded: bigint; status: number };

/** PaymentEscrow's `Status` enum: a payment the contract has never seen is `None` (0). */
export const PAYMENT_STATUS_NONE = 0;

/**
 * Reconciles every escrow payment at `block`.
 * @param parameters.escrowAccounts - escrow:<id> balances at the same block, by lower-case payment id
 */
export async function reconcilePayments({
  database,
  reader,
  chainId,
  block,
  escrow,
  escrowAccounts,
  pageSize = 5_000,
  progress,
}: {
  database: Database;
  reader: ChainReader;
  chainId: number;
  block: bigint;
  escrow: Address;
  escrowAccounts: Map<string, bigint>;
  pageSize?: number;
  progress?: Progress | undefined;
}): Promise<{ payments: number; mismatches: Mismatch[] }> {
  const mismatches: Mismatch[] = [];
  let payments = 0;
  const seen = new Set<string>();
  progress?.start(progress.active ? await countLedgerPayments(database, { chainId }) : 0, "payments", "escrow");
  const pages = pageLedgerPayments(database, { chainId, block, pageSize });
  let pending = pages.next();
  for (;;) {
    const page = await pending;
    if (page.done) break;
    pending = pages.next();
    const rows = page.value;
    payments += rows.length;
    for (const row of rows) seen.add(row.paymentId.toLowerCase());
    const results = await reader.readAll(
      rows.map((row) => ({
        address: escrow,
        abi: paymentEscrowAbi as Abi,
        functionName: "paymentState",
        args: [row.paymentId],
      })),
      block,
    );
    rows.forEach((row, i) => {
      const result = results[i]!;
      const base = {
        check: "payment" as const,
        paymentId: row.paymentId,
        token: row.token,
        account: `escrow:${row.paymentId}`,
      };
      if (result.status === "failure") {
        mismatches.push({
          ...base,
          expected: `paymentState failed: ${result.error}`,
          found: describe(row),
          message: `payment ${row.paymentId}: the chain did not answer paymentState at block ${block}`,
        });
        return;
      }
      const state = result.result as OnChainPaymentState;
      if (state.status === PAYMENT_STATUS_NONE) {
        mismatches.push({
          ...base,
          field: "status",
          expected: "unknown to the escrow",
          found: describe(row),
          message: `payment ${row.paymentId} is in the ledger (${describe(row)}) but the escrow has no such payment at block ${block}`,
        });
        return;
      }
      for (const field of ["held", "captured", "refunded"] as const) {
        if (state[field] !== row[field])
          mismatches.push({
            ...base,
            field,
            expected: state[field].toString(),
            found: row[field].toString(),
            message: `payment ${row.paymentId}: ${field} is ${state[field]} on chain at block ${block}; the ledger says ${row[field]}`,
          });
      }
      const account = escrowAccounts.get(row.paymentId.toLowerCase()) ?? 0n;
      if (account !== state.held)
        mismatches.push({
          ...base,
          field: "escrow_account",
          expected: state.held.toString(),
          found: account.toString(),
          message: `escrow:${row.paymentId} holds ${account} in the ledger; the escrow holds ${state.held} for the payment at block ${block}`,
        });
    });
    progress?.tick(rows.length);
  }
  progress?.done();
  // Escrow accounts whose payment has no recorded state: the state rows are missing.
  const orphans = [...escrowAccounts.keys()].filter((id) => !seen.has(id));
  const results = await reader.readAll(
    orphans.map((id) => ({ address: escrow, abi: paymentEscrowAbi as Abi, functionName: "paymentState", args: [id] })),
    block,
  );
  orphans.forEach((id, i) => {
    const result = results[i]!;
    const state = result.status === "success" ? (result.result as OnChainPaymentState) : undefined;
    mismatches.push({
      check: "payment",
      paymentId: id as Hex,
      account: `escrow:${id}`,
      field: "state",
      expected: state ? `held ${state.held}, captured ${state.captured}, refunded ${state.refunded}` : "unreadable",
      found: "no payment state in the ledger",
      message: `escrow:${id} holds ${escrowAccounts.get(id)} in the ledger, but the ledger records no state for payment ${id} at block ${block}`,
    });
  });
  return { payments, mismatches };
}

function describe(row: { held: bigint; captured: bigint; refunded: bigint; status: string }): string {
  return `${row.status}: held ${row.held}, captured ${row.captured}, refunded ${row.refunded}`;
}
