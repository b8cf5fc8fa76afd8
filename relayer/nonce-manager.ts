import { and, desc, eq, gte, inArray, lt, sql } from "drizzle-orm";
import {
  HttpRequestError,
  TimeoutError,
  keccak256,
  parseTransaction,
  type Address,
  type Hex,
  type PublicClient,
} from "viem";

import type { Database } from "../lib/db/database.ts";
import type { Logger } from "../lib/logging/logger.ts";
import { preparedOnce } from "../lib/db/prepared.ts";
import type { Signer } from "../lib/signing/signer.ts";
import type { RelayCall } from "./build-call.ts";
import { relayerTransactions } from "./db/schema.ts";
import { RelayerKeyStuckError, RelayerLeaseLostError } from "./errors.ts";
import { bumpFees, estimateFees, type Fees } from "./gas-fees.ts";
import type { KeyLease } from "./key-lease.ts";
import { readNonceUse } from "./read-nonce-use.ts";

export type SentTransaction = { nonce: number; hash: Hex; raw: Hex; fees: Fees; gas: bigint };

export type SendOptions = {
  /**
   * Whether `send` marks its record `sent` once the node answered the broadcast (default). False
   * when the caller records it with the relays' own transition, in one statement
   * (recordTransitions' `transaction`); a record left `signed` is re-sent like a `sent` one.
   */
  markSent?: boolean;
};

/** What one re-synchronisation with the chain found and did (for logs, metrics and tests). */
export type ResyncReport = {
  /** The key's mined transaction count. */
  latest: number;
  /** Its count including the node's mempool, before anything was re-sent. */
  pending: number;
  /** Recorded transactions broadcast again at their nonce (the node had lost them, or a reorg dropped them). */
  rebroadcast: number;
  /** Recorded transactions re-signed with fresh fees at their nonce because the node refused the old bytes. */
  resigned: number;
  /** Nonces with nothing recorded, filled with a 0-value self-send. */
  filled: number;
  nextNonce: number;
};

type TransactionRow = typeof relayerTransactions.$inferSelect;

/** What one transaction to sign carries: its nonce, call, gas limit, fees and the relays it serves. */
type TransactionToSign = { nonce: number; call: RelayCall; gas: bigint; fees: Fees; relayIds: string[] };

/** The record of a signed transaction, written before it is broadcast: built once, as it runs on every send. */
const insertSigned = preparedOnce((db) =>
  db.insert(relayerTransactions).values({
    relayer: sql.placeholder("relayer"),
    nonce: sql.placeholder("nonce"),
    hash: sql.placeholder("hash"),
    raw: sql.placeholder("raw"),
    relayIds: sql.placeholder("relayIds"),
    maxFeePerGas: sql.placeholder("maxFeePerGas"),
    maxPriorityFeePerGas: sql.placeholder("maxPriorityFeePerGas"),
    status: "signed",
  }),
);

/**
 * One relayer key and its nonce manager, inside the process holding the key's lease.
 *
 * Invariant: nonces are handed out one at a time under a mutex, and a nonce is consumed only
 * once its signed transaction is recorded (table relayer_transactions) — before it is
 * broadcast. So nonces are contiguous: a failure before the record gives the nonce back; a
 * failure after it leaves bytes that a re-synchronisation (or the relay's retry) re-sends at
 * that same nonce. A broadcast transaction is only ever replaced at its nonce, never re-sent at
 * a new one, so nothing can be paid twice.
 *
 * The node's view can fall behind ours — a broadcast lost in transport, a node that dropped its
 * mempool, a reorg that took mined transactions out of the chain. So the key re-synchronises
 * ({@link RelayerKey.repair}) not only when leased but whenever the node's pending count is below
 * our next nonce (before each send), when the node answers "nonce too high", and on every watch
 * round: what we recorded at the nonces the node lacks is broadcast again from its recorded bytes
 * (the same signed transaction — an EIP-3009 authorization cannot be paid twice), and a nonce with
 * nothing recorded gets a 0-value self-send. The next nonce never moves backwards.
 */
export class RelayerKey {
  readonly address: Address;
  private nextNonce = 0;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    /** Signs this key's transactions; the key itself stays inside the signer (lib/signing). */
    readonly account: Signer,
    private readonly publicClient: PublicClient,
    private readonly database: Database,
    private readonly lease: KeyLease,
    private readonly logger: Logger,
  ) {
    this.address = account.address;
  }

  /** The next nonce this key will use (for tests and metrics). */
  get pendingNonce(): number {
    return this.nextNonce;
  }

  /**
   * Re-synchronises from the chain when the key is leased: every recorded-but-unmined transaction
   * is re-broadcast from its recorded bytes; a nonce below the highest recorded one with no record
   * gets a 0-value self-send, so the key never jams.
   */
  async start(): Promise<void> {
    const report = await this.exclusive(() => this.resync("all"));
    this.logger.info(
      { relayer: this.address, nextNonce: report.nextNonce, lease: this.lease.token },
      "relayer key ready",
    );
  }

  /**
   * Re-synchronises with the chain now (the watch round, a detected reorg): re-sends what the node
   * lacks at our nonces, fills nonces with nothing recorded, and settles the bookkeeping of
   * transactions below the mined count.
   * @throws RelayerKeyStuckError when the node refuses a transaction at a nonce it lacks even re-signed with fresh fees
   */
  repair(): Promise<ResyncReport> {
    return this.exclusive(async () => {
      await this.assertLease();
      return this.resync("missing");
    });
  }

  /**
   * Takes the next nonce, signs, records and broadcasts `call` for `relayIds`.
   * @throws RelayerLeaseLostError when another process owns the key now (nothing was broadcast)
   */
  send(
    call: RelayCall,
    gas: bigint,
    fees: Fees,
    relayIds: string[],
    options: SendOptions = {},
  ): Promise<SentTransaction> {
    return this.exclusive(async () => {
      // The chain may know more of this key's transactions than we do (the key used outside the
      // relayer: a script with the deployer's key on a local chain), or fewer (it lost some of ours).
      // Its pending count is read while the transaction is signed and recorded, not before: the
      // mutex is what serialises a key's sends, so every round trip held under it divides the key's
      // throughput. Nothing is broadcast until the count agrees with ours (signRecordSend).
      let nodeCount: Promise<number> | undefined = this.publicClient.getTransactionCount({
        address: this.address,
        blockTag: "pending",
      });
      for (let attempt = 0; ;) {
        const nonce = this.nextNonce;
        const sent = await this.signRecordSend(
          { nonce, call, gas, fees, relayIds },
          true,
          options.markSent ?? true,
          nodeCount,
        );
        nodeCount = undefined;
        if (typeof sent === "number") {
          // The record was forgotten and the nonce given back; catch up with the node, then send.
          await this.catchUpWith(sent);
          continue;
        }
        if (sent !== "nonce-taken") return sent;
        if (++attempt > 2)
          throw new RelayerKeyStuckError(this.address, nonce, "the node keeps refusing our next nonce");
      }
    });
  }

  /**
   * Brings our next nonce in line with the node's pending count. Above ours: those nonces are spent
   * outside the relayer, so we move past them — never below our own count, which would reuse a nonce
   * of ours. Below ours: the node lost some of our transactions, which are sent again first (a gap
   * would hold every later transaction back, or be refused as "nonce too high").
   */
  private async catchUpWith(pending: number): Promise<void> {
    if (pending > this.nextNonce) {
      this.logger.warn(
        { relayer: this.address, expected: this.nextNonce, onChain: pending },
        "the key sent transactions outside the relayer; continuing after them",
      );
      this.nextNonce = pending;
    } else if (pending < this.nextNonce) {
      await this.assertLease();
      await this.resync("missing");
    }
  }

  /**
   * Signs a replacement at `nonce` with higher fees, records it, broadcasts it and marks the older one replaced.
   * @returns the replacement, or `undefined` when the nonce mined meanwhile (a version already sent may be it)
   */
  replace(
    nonce: number,
    call: RelayCall,
    gas: bigint,
    fees: Fees,
    relayIds: string[],
    replacedHash: Hex,
  ): Promise<SentTransaction | undefined> {
    return this.exclusive(async () => {
      await this.assertLease();
      const sent = await this.signRecordSend({ nonce, call, gas, fees, relayIds }, false);
      if (sent === "nonce-taken") return undefined;
      await this.database.db
        .update(relayerTransactions)
        .set({ status: "replaced" })
        .where(eq(relayerTransactions.hash, replacedHash));
      return sent;
    });
  }

  /** Broadcasts recorded bytes again; "already known" and "nonce too low" mean it is in (or was mined). */
  async broadcast(raw: Hex): Promise<void> {
    const outcome = await this.sendRaw(raw);
    if (outcome === "nonce-too-high")
      throw new RelayerKeyStuckError(this.address, parseTransaction(raw).nonce ?? -1, "the node lacks a lower nonce");
  }

  async release(): Promise<void> {
    await this.lease.release();
  }

  /** @throws RelayerLeaseLostError when another process holds the key's lease now */
  private async assertLease(): Promise<void> {
    if (!(await this.lease.stillHeld())) throw new RelayerLeaseLostError(this.address);
  }

  /**
   * Sends raw bytes and classifies the node's answer. Throws what is not an answer about the
   * nonce (a transport failure, a refusal of the bytes).
   */
  private async sendRaw(raw: Hex): Promise<"sent" | "known" | "nonce-too-low" | "nonce-too-high"> {
    try {
      await this.publicClient.sendRawTransaction({ serializedTransaction: raw });
      return "sent";
    } catch (error) {
      if (isTransportFailure(error)) throw error;
      const message = fullMessage(error);
      if (/already known|known transaction|already imported/.test(message)) return "known";
      if (/nonce too low|nonce has already been used|nonce is too low/.test(message)) return "nonce-too-low";
      if (/nonce too high|nonce is too high|can't be queued/.test(message)) return "nonce-too-high";
      throw error;
    }
  }

  /**
   * The re-synchronisation itself (under the mutex). `scope` "all" re-broadcasts every recorded
   * transaction the chain has not mined (on lease: the node's mempool may be another's); "missing"
   * only those at nonces the node's pending count does not cover.
   */
  private async resync(scope: "all" | "missing"): Promise<ResyncReport> {
    const latest = await this.publicClient.getTransactionCount({ address: this.address, blockTag: "latest" });
    await this.settleBelow(latest);
    const pending = await this.publicClient.getTransactionCount({ address: this.address, blockTag: "pending" });
    // A pending count below the mined one means the chain lost blocks between the two reads: the
    // nonces from `pending` up are open again, and whatever we recorded there is re-sent — never
    // filled over with a self-send, which would take the nonce from a recorded transaction for good.
    const from = Math.min(latest, pending);
    // Rows at or above the mined count: never mined, or mined in blocks a reorg took away.
    const rows = await this.database.db
      .select()
      .from(relayerTransactions)
      .where(
        and(
          eq(relayerTransactions.relayer, this.address),
          gte(relayerTransactions.nonce, from),
          inArray(relayerTransactions.status, ["signed", "sent", "mined"]),
        ),
      )
      .orderBy(relayerTransactions.nonce, desc(relayerTransactions.id));
    const best = new Map<number, TransactionRow>();
    for (const row of rows) {
      const chosen = best.get(row.nonce);
      // The version that mined carries the outcome everyone recorded; otherwise the newest (highest fees).
      if (!chosen || (row.status === "mined" && chosen.status !== "mined")) best.set(row.nonce, row);
    }
    const highest = Math.max(pending - 1, this.nextNonce - 1, ...best.keys());
    const report: ResyncReport = { latest, pending, rebroadcast: 0, resigned: 0, filled: 0, nextNonce: 0 };
    for (let nonce = scope === "all" ? from : pending; nonce <= highest; nonce += 1) {
      const row = best.get(nonce);
      if (row) {
        if (nonce >= pending || row.status === "mined")
          this.logger.warn(
            { relayer: this.address, nonce, hash: row.hash, relayIds: row.relayIds, wasMined: row.status === "mined" },
            "re-broadcasting a recorded transaction the node does not hold",
          );
        await this.rebroadcastRow(row, report);
      } else if (nonce >= pending) {
        this.logger.warn({ relayer: this.address, nonce }, "filling a nonce gap with a 0-value self-send");
        const filler = { to: this.address, data: "0x" as const, value: 0n };
        const fees = await estimateFees(this.publicClient);
        const sent = await this.signRecordSend({ nonce, call: filler, gas: 21_000n, fees, relayIds: [] }, false);
        if (sent !== "nonce-taken") report.filled += 1;
      }
    }
    this.nextNonce = Math.max(this.nextNonce, pending, highest + 1);
    report.nextNonce = this.nextNonce;
    return report;
  }

  /** Broadcasts a recorded row again; bytes the node refuses are re-signed at the same nonce with fresh fees. */
  private async rebroadcastRow(row: TransactionRow, report: ResyncReport): Promise<void> {
    let outcome: Awaited<ReturnType<RelayerKey["sendRaw"]>>;
    try {
      outcome = await this.sendRaw(row.raw as Hex);
    } catch (error) {
      if (isTransportFailure(error)) throw error;
      // Refused (its fees fell below the base fee, say): the same call, re-signed with current fees.
      const transaction = parseTransaction(row.raw as Hex);
      const previous = {
        maxFeePerGas: BigInt(row.maxFeePerGas),
        maxPriorityFeePerGas: BigInt(row.maxPriorityFeePerGas),
      };
      const fees = bumpFees(previous, await estimateFees(this.publicClient));
      this.logger.warn(
        { relayer: this.address, nonce: row.nonce, hash: row.hash, err: (error as Error).message.split("\n")[0] },
        "the node refused recorded bytes; re-signing the same call at the same nonce with fresh fees",
      );
      const call = { to: transaction.to!, data: transaction.data ?? "0x", value: transaction.value ?? 0n };
      const sent = await this.signRecordSend(
        { nonce: row.nonce, call, gas: transaction.gas!, fees, relayIds: row.relayIds as string[] },
        false,
      );
      if (sent !== "nonce-taken") {
        await this.database.db
          .update(relayerTransactions)
          .set({ status: "replaced" })
          .where(eq(relayerTransactions.id, row.id));
        report.resigned += 1;
      }
      return;
    }
    if (outcome === "nonce-too-high")
      throw new RelayerKeyStuckError(this.address, row.nonce, "the node refuses it for a lower nonce it lacks");
    if (outcome === "nonce-too-low") return; // mined meanwhile (or taken): settleBelow sorts it out next round
    report.rebroadcast += 1;
    if (row.status !== "sent")
      await this.database.db
        .update(relayerTransactions)
        .set({ status: "sent" })
        .where(eq(relayerTransactions.id, row.id));
  }

  /**
   * Bookkeeping below the mined count: a transaction still `signed`/`sent` there either mined (a
   * gap filler, a relay whose worker died) or lost its nonce to another version or transaction.
   * Keeps the stuck-key report (unmined transactions by age) true.
   */
  private async settleBelow(latest: number): Promise<void> {
    const open = await this.database.db
      .select()
      .from(relayerTransactions)
      .where(
        and(
          eq(relayerTransactions.relayer, this.address),
          lt(relayerTransactions.nonce, latest),
          inArray(relayerTransactions.status, ["signed", "sent"]),
        ),
      )
      .limit(200);
    for (const row of open) {
      // `latest` was read before the receipt: a reorg between the two reads must not pass for a
      // dropped transaction (its nonce would then be filled by a self-send, the relay lost).
      // Dropped only on a verdict read on one chain; a failed read leaves the row for the next round.
      const use = await readNonceUse(this.publicClient, this.address, row.nonce, [row.hash as Hex]);
      if (use.kind !== "mined" && use.kind !== "taken") continue;
      await this.database.db
        .update(relayerTransactions)
        .set({ status: use.kind === "mined" ? "mined" : "dropped" })
        .where(eq(relayerTransactions.id, row.id));
    }
  }

  /**
   * Signs, records (before anything leaves the process), re-checks the lease (the fence: a
   * process that stalled past its lease must not broadcast at the new owner's nonces) and
   * broadcasts. `fresh`: `nonce` is the next one (consumed here); otherwise it is an older nonce
   * being replaced or re-filled. The record, the lease check and `nodeCount` (the node's pending
   * count, for a fresh send) are awaited together, all before the broadcast: the order between
   * them does not matter, only that each is done before anything leaves the process.
   * @returns the sent transaction; "nonce-taken" when the node says another transaction holds
   *   `nonce` (a fresh send then moves past it); or the node's pending count when it differs from
   *   `nonce` (nothing was broadcast and the record is forgotten)
   */
  private signRecordSend(
    transaction: TransactionToSign,
    fresh: boolean,
    markSent?: boolean,
  ): Promise<SentTransaction | "nonce-taken">;
  private signRecordSend(
    transaction: TransactionToSign,
    fresh: true,
    markSent: boolean,
    nodeCount: Promise<number> | undefined,
  ): Promise<SentTransaction | "nonce-taken" | number>;
  private async signRecordSend(
    { nonce, call, gas, fees, relayIds }: TransactionToSign,
    fresh: boolean,
    markSent = true,
    nodeCount?: Promise<number>,
  ): Promise<SentTransaction | "nonce-taken" | number> {
    const raw = await this.account.signTransaction({
      chainId: this.publicClient.chain!.id,
      type: "eip1559",
      nonce,
      to: call.to,
      data: call.data,
      value: call.value,
      gas,
      maxFeePerGas: fees.maxFeePerGas,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
    });
    const hash = keccak256(raw);
    const [record, lease, node] = await Promise.allSettled([
      insertSigned(this.database.db).execute({
        relayer: this.address,
        nonce,
        hash,
        raw,
        relayIds,
        maxFeePerGas: fees.maxFeePerGas.toString(),
        maxPriorityFeePerGas: fees.maxPriorityFeePerGas.toString(),
      }),
      this.lease.stillHeld(),
      nodeCount ?? Promise.resolve(nonce),
    ]);
    if (record.status === "rejected") {
      // The insert may have committed with its answer lost: this nonce is never handed out again.
      // The next re-synchronisation re-sends the row if it exists, or fills the nonce.
      if (fresh) this.nextNonce = Math.max(this.nextNonce, nonce + 1);
      throw record.reason;
    }
    if (fresh) this.nextNonce = nonce + 1;
    const forget = async () => {
      await this.database.db.delete(relayerTransactions).where(eq(relayerTransactions.hash, hash));
      if (fresh && this.nextNonce === nonce + 1) this.nextNonce = nonce;
    };
    if (lease.status === "rejected" || !lease.value) {
      await forget();
      throw new RelayerLeaseLostError(this.address);
    }
    if (node.status === "rejected") {
      await forget();
      throw node.reason;
    }
    if (node.value !== nonce) {
      await forget();
      return node.value;
    }
    let outcome: Awaited<ReturnType<RelayerKey["sendRaw"]>>;
    try {
      outcome = await this.sendRaw(raw);
    } catch (error) {
      // A transport failure: the node may hold the transaction, so the nonce stays taken and the
      // bytes are re-sent later.
      if (isTransportFailure(error)) throw error;
      // The node answered with an error. Refused bytes can never mine, so the nonce is given back
      // (we are under the mutex; nothing later was signed) — unless the node took them anyway:
      // Hardhat answers an error for a transaction that reverts or runs out of gas and mines it
      // all the same. What the node holds is sent, and is followed like any other.
      if (!(await this.holds(hash))) {
        await forget();
        throw error;
      }
      this.logger.warn(
        { relayer: this.address, nonce, hash, err: fullMessage(error).trim().split("\n")[0] },
        "the node answered the broadcast with an error but holds the transaction; following it",
      );
      outcome = "sent";
    }
    if (outcome === "nonce-too-low") {
      // Ours, mined already (a retried request whose first answer was lost)? Or another's?
      if (!(await this.holds(hash))) {
        await forget();
        if (fresh) {
          const pending = await this.publicClient.getTransactionCount({ address: this.address, blockTag: "pending" });
          this.nextNonce = Math.max(this.nextNonce, pending);
        }
        return "nonce-taken";
      }
    }
    if (outcome === "nonce-too-high") {
      // The node lacks a lower nonce of ours. These bytes stay valid: once the lower nonces are
      // re-sent, they are sent again with them.
      this.logger.warn({ relayer: this.address, nonce }, "the node lacks a lower nonce of this key; re-synchronising");
      await this.resync("missing");
    }
    if (markSent)
      await this.database.db
        .update(relayerTransactions)
        .set({ status: "sent" })
        .where(and(eq(relayerTransactions.hash, hash), eq(relayerTransactions.status, "signed")));
    return { nonce, hash, raw, fees, gas };
  }

  /** Whether the node holds the transaction (pending or mined); a failed read counts as not. */
  private async holds(hash: Hex): Promise<boolean> {
    return (await this.publicClient.getTransaction({ hash }).catch(() => undefined)) !== undefined;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** Whether the request or its answer was lost (as opposed to the node answering with an error). */
function isTransportFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const walk = (error as { walk?: (fn: (e: unknown) => boolean) => unknown }).walk;
  if (!walk) return false;
  return Boolean(walk.call(error, (inner) => inner instanceof HttpRequestError || inner instanceof TimeoutError));
}

function fullMessage(error: unknown): string {
  const e = error as { message?: string; details?: string; shortMessage?: string };
  return `${e.shortMessage ?? ""} ${e.details ?? ""} ${e.message ?? ""}`.toLowerCase();
}
