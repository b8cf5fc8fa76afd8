/**
 * The ledger as the reconciliation reads it: read-only SQL over the ledger's tables, in pages (keyset
 * pagination on the tables' own indexes, so memory stays flat at any size) and as of a block. Every
 * balance is recomputed as the sum of its postings up to the block — the auditor does not take the
 * stored running balance on trust, it checks it against that sum.
 */
import { sql } from "drizzle-orm";
import { getAddress, type Address, type Hex } from "viem";

import type { Database } from "../../lib/db/database.ts";

export type LedgerBalance = {
  account: string;
  token: Address;
  /** Σ of the account's posting amounts up to the block. */
  balance: bigint;
  /** The running balance stored on its last posting up to the block (should equal `balance`). */
  storedBalance: bigint;
  /** Block of that last posting. */
  lastBlock: bigint;
};

/**
 * Every (account, token) the ledger knows at `block`, in pages ordered by account and token.
 * @yields pages of at most `pageSize` balances
 */
export async function* pageLedgerBalances(
  database: Database,
  { chainId, block, pageSize = 5_000 }: { chainId: number; block: bigint; pageSize?: number },
): AsyncGenerator<LedgerBalance[]> {
  let after: { account: string; token: string } | undefined;
  for (;;) {
    const rows = await database.query<{
      account: string;
      token: string;
      balance: string;
      stored: string;
      last_block: string;
    }>(sql`
      SELECT account, token, sum(amount)::text AS balance,
        (array_agg(balance_after::text ORDER BY block_number DESC, log_index DESC, leg DESC))[1] AS stored,
        max(block_number)::text AS last_block
      FROM postings
      WHERE chain_id = ${chainId} AND block_number <= ${block}
        ${after ? sql`AND (account, token) > (${after.account}, ${after.token})` : sql``}
      GROUP BY account, token
      ORDER BY account, token
      LIMIT ${pageSize}`);
    if (rows.length === 0) return;
    yield rows.map((row) => ({
      account: row.account,
      token: getAddress(row.token),
      balance: BigInt(row.balance),
      storedBalance: BigInt(row.stored),
      lastBlock: BigInt(row.last_block),
    }));
    const last = rows[rows.length - 1]!;
    after = { account: last.account, token: last.token };
    if (rows.length < pageSize) return;
  }
}

/** How many (account, token) pairs the ledger holds a current balance for: a progress bar's total. */
export async function countLedgerAccounts(database: Database, { chainId }: { chainId: number }): Promise<number> {
  const [row] = await database.query<{ n: string }>(
    sql`SELECT count(*)::text AS n FROM account_balances WHERE chain_id = ${chainId}`,
  );
  return Number(row?.n ?? 0);
}

/** How many escrow payments the ledger knows (at any block): a progress bar's total. */
export async function countLedgerPayments(database: Database, { chainId }: { chainId: number }): Promise<number> {
  const [row] = await database.query<{ n: string }>(
    sql`SELECT count(DISTINCT payment_id)::text AS n FROM escrow_payment_states WHERE chain_id = ${chainId}`,
  );
  return Number(row?.n ?? 0);
}

/** Σ of one account's postings in one token up to `block` (0 when it has none). */
export async function ledgerBalanceAt(
  database: Database,
  { chainId, account, token, block }: { chainId: number; account: string; token: Address; block: bigint },
): Promise<bigint> {
  const [row] = await database.query<{ balance: string | null }>(sql`
    SELECT sum(amount)::text AS balance FROM postings
    WHERE chain_id = ${chainId} AND account = ${account} AND token = ${token} AND block_number <= ${block}`);
  return BigInt(row?.balance ?? 0);
}

/** What the ledger says the escrow contract holds in `token` at `block`: its holder account plus every payment's escrow account. */
export async function ledgerEscrowTotalAt(
  database: Database,
  { chainId, escrow, token, block }: { chainId: number; escrow: Address; token: Address; block: bigint },
): Promise<bigint> {
  const [row] = await database.query<{ total: string | null }>(sql`
    SELECT sum(amount)::text AS total FROM postings
    WHERE chain_id = ${chainId} AND token = ${token} AND block_number <= ${block}
      AND (account = ${`holder:${getAddress(escrow)}`} OR (account >= 'escrow:' AND account < 'escrow;'))`);
  return BigInt(row?.total ?? 0);
}

export type LedgerPayment = {
  paymentId: Hex;
  token: Address;
  held: bigint;
  captured: bigint;
  refunded: bigint;
  status: string;
  /** Block of the payment's last event up to the block asked for. */
  lastBlock: bigint;
};

/**
 * Every escrow payment's state as of `block` (its latest recorded state at or before it), in pages by payment id.
 * @yields pages of at most `pageSize` payments
 */
export async function* pageLedgerPayments(
  database: Database,
  { chainId, block, pageSize = 5_000 }: { chainId: number; block: bigint; pageSize?: number },
): AsyncGenerator<LedgerPayment[]> {
  let after: string | undefined;
  for (;;) {
    const rows = await database.query<PaymentRow>(sql`
      SELECT DISTINCT ON (payment_id) payment_id, token, held::text AS held, captured::text AS captured,
        refunded::text AS refunded, status, block_number::text AS last_block
      FROM escrow_payment_states
      WHERE chain_id = ${chainId} AND block_number <= ${block} ${after ? sql`AND payment_id > ${after}` : sql``}
      ORDER BY payment_id, escrow_payment_states.block_number DESC, escrow_payment_states.log_index DESC
      LIMIT ${pageSize}`);
    if (rows.length === 0) return;
    yield rows.map(toPayment);
    after = rows[rows.length - 1]!.payment_id;
    if (rows.length < pageSize) return;
  }
}

/** One payment's state as of `block` (undefined before its first event). */
export async function ledgerPaymentAt(
  database: Database,
  { chainId, paymentId, block }: { chainId: number; paymentId: Hex; block: bigint },
): Promise<LedgerPayment | undefined> {
  const [row] = await database.query<PaymentRow>(sql`
    SELECT payment_id, token, held::text AS held, captured::text AS captured, refunded::text AS refunded, status,
      block_number::text AS last_block
    FROM escrow_payment_states
    WHERE chain_id = ${chainId} AND payment_id = ${paymentId.toLowerCase()} AND block_number <= ${block}
    ORDER BY escrow_payment_states.block_number DESC, escrow_payment_states.log_index DESC LIMIT 1`);
  return row ? toPayment(row) : undefined;
}

type PaymentRow = {
  payment_id: string;
  token: string;
  held: string;
  captured: string;
  refunded: string;
  status: string;
  last_block: string;
};

function toPayment(row: PaymentRow): LedgerPayment {
  return {
    paymentId: row.payment_id as Hex,
    token: getAddress(row.token),
    held: BigInt(row.held),
    captured: BigInt(row.captured),
    refunded: BigInt(row.refunded),
    status: row.status,
    lastBlock: BigInt(row.last_block),
  };
}

/** A journal entry as stored, with its postings, for comparison with the chain. */
export type StoredEntry = {
  blockNumber: bigint;
  logIndex: number;
  blockHash: string;
  transactionHash: string;
  token: string;
  kind: string;
  reference: string | null;
  event: unknown;
  postings: { leg: number; account: string; counterparty: string; amount: bigint }[];
};

/** Journal entries with their postings in a block range, in chain order. */
export async function ledgerEntriesInRange(
  database: Database,
  { chainId, from, to }: { chainId: number; from: bigint; to: bigint },
): Promise<StoredEntry[]> {
  const entries = await database.query<{
    block_number: string;
    log_index: number;
    block_hash: string;
    transaction_hash: string;
    token: string;
    kind: string;
    reference: string | null;
    event: unknown;
  }>(sql`
    SELECT block_number::text AS block_number, log_index, block_hash, transaction_hash, token, kind, reference, event
    FROM journal_entries WHERE chain_id = ${chainId} AND block_number BETWEEN ${from} AND ${to}
    ORDER BY journal_entries.block_number, journal_entries.log_index`);
  const postings = await database.query<{
    block_number: string;
    log_index: number;
    leg: number;
    account: string;
    counterparty: string;
    amount: string;
  }>(sql`
    SELECT block_number::text AS block_number, log_index, leg, account, counterparty, amount::text AS amount
    FROM postings WHERE chain_id = ${chainId} AND block_number BETWEEN ${from} AND ${to}
    ORDER BY postings.block_number, postings.log_index, postings.leg`);
  const byPosition = new Map<string, StoredEntry>();
  const result = entries.map((row) => {
    const entry: StoredEntry = {
      blockNumber: BigInt(row.block_number),
      logIndex: row.log_index,
      blockHash: row.block_hash,
      transactionHash: row.transaction_hash,
      token: row.token,
      kind: row.kind,
      reference: row.reference,
      event: row.event,
      postings: [],
    };
    byPosition.set(`${row.block_number}:${row.log_index}`, entry);
    return entry;
  });
  for (const posting of postings) {
    byPosition.get(`${posting.block_number}:${posting.log_index}`)?.postings.push({
      leg: posting.leg,
      account: posting.account,
      counterparty: posting.counterparty,
      amount: BigInt(posting.amount),
    });
  }
  return result;
}

/** A decoded event as stored in chain_events. */
export type StoredEvent = {
  blockNumber: bigint;
  logIndex: number;
  blockHash: string;
  transactionHash: string;
  contract: string;
  eventName: string;
  args: unknown;
};

/** chain_events rows in a block range, in chain order. */
export async function ledgerEventsInRange(
  database: Database,
  { chainId, from, to }: { chainId: number; from: bigint; to: bigint },
): Promise<StoredEvent[]> {
  const rows = await database.query<{
    block_number: string;
    log_index: number;
    block_hash: string;
    transaction_hash: string;
    contract: string;
    event_name: string;
    args: unknown;
  }>(sql`
    SELECT block_number::text AS block_number, log_index, block_hash, transaction_hash, contract, event_name, args
    FROM chain_events WHERE chain_id = ${chainId} AND block_number BETWEEN ${from} AND ${to}
    ORDER BY chain_events.block_number, chain_events.log_index`);
  return rows.map((row) => ({
    blockNumber: BigInt(row.block_number),
    logIndex: row.log_index,
    blockHash: row.block_hash,
    transactionHash: row.transaction_hash,
    contract: row.contract,
    eventName: row.event_name,
    args: row.args,
  }));
}

/** Positions `block:log` of escrow_payment_states rows in a block range, with the payment each names. */
export async function ledgerPaymentEventsInRange(
  database: Database,
  { chainId, from, to }: { chainId: number; from: bigint; to: bigint },
): Promise<Map<string, string>> {
  const rows = await database.query<{ block_number: string; log_index: number; payment_id: string }>(sql`
    SELECT block_number::text AS block_number, log_index, payment_id FROM escrow_payment_states
    WHERE chain_id = ${chainId} AND block_number BETWEEN ${from} AND ${to}`);
  return new Map(rows.map((row) => [`${row.block_number}:${row.log_index}`, row.payment_id]));
}

/** The indexed head (checkpoint), the journal chain's tip and the genesis the ledger belongs to. */
export async function readLedgerHead(
  database: Database,
  { chainId }: { chainId: number },
): Promise<{ number: bigint; hash: Hex; genesisHash: Hex; journal: { seq: bigint; hash: Hex | null } } | undefined> {
  const [row] = await database.query<{
    head_number: string;
    head_hash: string;
    genesis_hash: string;
    journal_seq: string;
    journal_head: string | null;
  }>(sql`
    SELECT head_number::text AS head_number, head_hash, genesis_hash, journal_seq::text AS journal_seq, journal_head
    FROM ledger_chains WHERE chain_id = ${chainId}`);
  if (!row) return undefined;
  return {
    number: BigInt(row.head_number),
    hash: row.head_hash as Hex,
    genesisHash: row.genesis_hash as Hex,
    journal: { seq: BigInt(row.journal_seq), hash: row.journal_head as Hex | null },
  };
}

/** The stored hash of block `number`, when the ledger kept its header. */
export async function ledgerBlockHash(
  database: Database,
  { chainId, number }: { chainId: number; number: bigint },
): Promise<Hex | undefined> {
  const [row] = await database.query<{ hash: string }>(
    sql`SELECT hash FROM ledger_blocks WHERE chain_id = ${chainId} AND number = ${number}`,
  );
  return row?.hash as Hex | undefined;
}

/** The lowest block the ledger holds anything for (where completeness starts by default). */
export async function ledgerFirstBlock(
  database: Database,
  { chainId }: { chainId: number },
): Promise<bigint | undefined> {
  const [row] = await database.query<{ first: string | null }>(
    sql`SELECT min(number)::text AS first FROM ledger_blocks WHERE chain_id = ${chainId}`,
  );
  return row?.first == null ? undefined : BigInt(row.first);
}
