/**
 * What a wallet's live view shows, read in one go: its ledger balances, the ledger's indexed head,
 * its latest movements with where each stands (api/movements/describe-movements.ts — the one rule
 * of pending → queued → submitted → confirmed → indexed) and, when asked, the first page of its
 * ledger history. Reads only; every amount a decimal string of base units.
 *
 * Input: a wallet row. Output: a JSON-ready snapshot and a fingerprint that changes exactly when
 * something the view shows changed (so an unchanged wallet costs the stream nothing to send).
 */
import { desc, eq } from "drizzle-orm";

import { getBalances } from "../../../../lib/ledger/queries/get-balances.ts";
import { getHistory } from "../../../../lib/ledger/queries/get-history.ts";
import { getIndexedHead } from "../../../../lib/ledger/queries/get-indexed-head.ts";
import { moneyMovements } from "../../../db/schema.ts";
import type { AppServices } from "../../../dependencies.ts";
import { describeMovements } from "../../../movements/describe-movements.ts";

/** Movements a snapshot carries: the newest ones, enough for a history screen's first page. */
export const SNAPSHOT_MOVEMENTS = 20;
/** Ledger postings a snapshot carries when its history is asked for. */
export const SNAPSHOT_HISTORY = 20;

export type WalletSnapshot = {
  walletId: string;
  indexedHead: string | null;
  balances: { token: string; balance: string; lastChangeBlock: string }[];
  movements: {
    id: string;
    kind: string;
    from: string;
    to: string;
    token: string;
    amount: string;
    status: string;
    relayId: string | null;
    transactionHash: string | null;
    createdAt: string;
  }[];
  /** Present when asked for: the ledger's newest postings of the wallet. */
  history?: {
    blockNumber: string;
    blockTimestamp: string;
    transactionHash: string;
    logIndex: number;
    token: string;
    kind: string;
    reference: string | null;
    counterparty: string;
    amount: string;
    balanceAfter: string;
  }[];
};

type Services = Pick<AppServices, "database" | "relay" | "chainId">;

/**
 * Reads a wallet's live state.
 * @param services - database, relay gateway, chain id
 * @param wallet - the wallet (already authorised for the caller)
 * @param options - `history`: also read the first page of ledger postings
 * @returns the snapshot and its fingerprint (indexed head aside: it moves with every block)
 */
export async function readWalletSnapshot(
  services: Services,
  wallet: { id: string; address: string },
  options: { history: boolean },
): Promise<{ snapshot: WalletSnapshot; fingerprint: string; ledgerFingerprint: string }> {
  const { database, chainId } = services;
  const [head, balances, rows] = await Promise.all([
    getIndexedHead(database, { chainId }),
    getBalances(database, { chainId, account: wallet.address }),
    database.db
      .select()
      .from(moneyMovements)
      .where(eq(moneyMovements.walletId, wallet.id))
      .orderBy(desc(moneyMovements.seq))
      .limit(SNAPSHOT_MOVEMENTS),
  ]);
  const described = await describeMovements(services, rows);
  const snapshot: WalletSnapshot = {
    walletId: wallet.id,
    indexedHead: head ? head.number.toString() : null,
    balances: balances.map((b) => ({
      token: b.token,
      balance: b.balance.toString(),
      lastChangeBlock: b.lastChangeBlock.toString(),
    })),
    movements: described.map((m) => ({
      id: m.id,
      kind: m.kind,
      from: m.from,
      to: m.to,
      token: m.token,
      amount: m.amount.toString(),
      status: m.status,
      relayId: m.relayId,
      transactionHash: m.transactionHash,
      createdAt: m.createdAt.toISOString(),
    })),
  };
  // The ledger part changes only when a posting of this wallet lands (or a reorg takes one back).
  const ledgerFingerprint = JSON.stringify(snapshot.balances);
  if (options.history) {
    const history = await getHistory(database, { chainId, account: wallet.address, limit: SNAPSHOT_HISTORY });
    snapshot.history = history.items.map((item) => ({
      blockNumber: item.blockNumber.toString(),
      blockTimestamp: item.blockTimestamp.toString(),
      transactionHash: item.transactionHash,
      logIndex: item.logIndex,
      token: item.token,
      kind: item.kind,
      reference: item.reference,
      counterparty: item.counterparty,
      amount: item.amount.toString(),
      balanceAfter: item.balanceAfter.toString(),
    }));
  }
  const fingerprint = JSON.stringify([snapshot.balances, snapshot.movements]);
  return { snapshot, fingerprint, ledgerFingerprint };
}
