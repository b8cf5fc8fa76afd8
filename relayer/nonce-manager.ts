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

/** A transaction signed and recorded, not yet broadcast. */
type RecordedTransaction = TransactionToSign & { hash: Hex; raw: Hex };

/** The node's answer to a broadcast, or why it was not made. */
type BroadcastAnswer =
  | { kind: "answered"; outcome: "sent" | "known" | "nonce-too-low" | "nonce-too-high" }
  | { kind: "failed"; error: unknown }
  | { kind: "lease-lost" };

/**
 * A fresh send, signed and recorded under the mutex, waiting in the broadcast line. `answer`
 * settles with the sent transaction; "nonce-taken" (another transaction holds the nonce); or
 * "withdrawn" (a send ahead of it stalled the line, and its record was deleted unsent: it is
 * sent again at a new nonce).
 */
type QueuedSend = {
  transaction: RecordedTransaction;
  markSent: boolean;
  answer: Deferred<SentTransaction | "nonce-taken" | "withdrawn">;
};

/** A queued send whose broadcast was not simply taken: the line holds everything behind it until it is settled. */
type Stall = { send: QueuedSend; answer: BroadcastAnswer; behind: QueuedSend[] };

/**
 * How much of the lease's lifetime may pass between the lease check a send relies on and its
 * broadcast (500 ms of the default 15 s); an older check is made again. Sends of a busy key share
 * one check in that time.
 */
const LEASE_CHECK_FRESHNESS = 1 / 30;

/** The record of a signed transaction, written before it is broadcast: built once, as it runs on every send (and in bench/relayer/relay-statements.ts). */
export const insertSigned = preparedOnce((db) =>
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
 * A fresh send is pipelined: the mutex covers handing out the nonce, signing, recording and the
 * checks (the lease, the node's pending count), and the broadcast then waits its turn in a line
 * kept in nonce order, outside the mutex. The next send is signed and recorded while this one is
 * broadcast: a send then holds the mutex for one round trip to the node, not two (on a chain that
 * mines as it receives, the broadcast is about half a send's time). When the node's
 * answer is anything but "taken" (a refusal, a lost request, a nonce it says is used or too high)
 * the line stalls: nothing behind it is broadcast; the sends behind it, recorded and never
 * broadcast, are withdrawn (their records deleted, their nonces given back, and they are sent again
 * at new nonces), and the stalled send is settled under the mutex exactly as a lone send would be.
 * Everything that reads or repairs the key's nonces as a whole (start, repair, replace, catching
 * up) first waits for the line to empty and any stall to be settled.
 *
 * The node's view can fall behind ours — a broadcast lost in transport, a node that dropped its
 * mempool, a reorg that took mined transactions out of the chain. So the key re-synchronises
 * ({@link RelayerKey.repair}) not only when leased but whenever the node's pending count is below
 * the nonces we know it has (before each send), when the node answers "nonce too high", and on
 * every watch round: what we recorded at the nonces the node lacks is broadcast again from its
 * recorded bytes (the same signed transaction — an EIP-3009 authorization cannot be paid twice),
 * and a nonce with nothing recorded gets a 0-value self-send. The next nonce never moves backwards
 * past a broadcast transaction.
 */
export class RelayerKey {
  readonly address: Address;
  private nextNonce = 0;
  private mutex: Promise<unknown> = Promise.resolve();
  /** The tail of the broadcast line. Its steps never reject and never wait for the mutex. */
  private line: Promise<void> = Promise.resolve();
  /** Nonces of the queued sends whose broadcast is not answered yet, in nonce order. */
  private unanswered: number[] = [];
  private stall: Stall | undefined;

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
  async send(
    call: RelayCall,
    gas: bigint,
    fees: Fees,
    relayIds: string[],
    options: SendOptions = {},
  ): Promise<SentTransaction> {
    const markSent = options.markSent ?? true;
    for (let attempt = 0; ;) {
      const admitted = await this.locked(() => this.admit({ call, gas, fees, relayIds }, markSent));
      // A stalled line is settled by a recovery already waiting for the mutex: queue behind it.
      if (admitted === "stalled") continue;
      if (typeof admitted === "number") {
        // The record was forgotten and the nonce given back; catch up with the node, then send.
        await this.exclusive(() => this.catchUpWith(admitted));
        continue;
      }
      const sent = await admitted.answer;
      if (sent === "withdrawn") continue;
      if (sent !== "nonce-taken") return sent;
      if (++attempt > 2)
        throw new RelayerKeyStuckError(this.address, admitted.nonce, "the node keeps refusing our next nonce");
    }
  }

  /**
   * The part of a fresh send under the mutex: hands out the next nonce, signs and records the
   * transaction, checks the lease and the node's pending count, and queues the broadcast.
   * @returns the queued send; "stalled" when the line is stalled (nothing was signed); or the
   *   node's pending count when it disagrees with ours (nothing was queued, the nonce given back)
   */
  private async admit(
    { call, gas, fees, relayIds }: Omit<TransactionToSign, "nonce">,
    markSent: boolean,
  ): Promise<{ nonce: number; answer: Promise<SentTransaction | "nonce-taken" | "withdrawn"> } | "stalled" | number> {
    if (this.stall) return "stalled";
    const nonce = this.nextNonce;
    // The chain may know more of this key's transactions than we do (the key used outside the
    // relayer: a script with the deployer's key on a local chain), or fewer (it lost some of ours).
    // Its pending count is read while the transaction is signed and recorded, not before: every
    // round trip held under the mutex divides the key's throughput. The node holds every nonce
    // below the oldest unanswered broadcast, and none of ours from this one up: a count outside
    // that range holds the send back (nothing is queued).
    const expected = { from: this.unanswered[0] ?? nonce, to: nonce };
    const nodeCount = this.publicClient.getTransactionCount({ address: this.address, blockTag: "pending" });
    nodeCount.catch(() => undefined); // awaited in signAndRecord, unless signing throws first
    const recorded = await this.signAndRecord({ nonce, call, gas, fees, relayIds }, true, nodeCount, expected);
    if (typeof recorded === "number") return recorded;
    const queued: QueuedSend = {
      transaction: recorded,
      markSent,
      answer: deferred(),
    };
    this.unanswered.push(nonce);
    this.line = this.line.then(() => this.broadcastInTurn(queued));
    return { nonce, answer: queued.answer.promise };
  }

  /**
   * One step of the broadcast line (never rejects, never waits for the mutex). The lease is checked
   * again unless a check is still fresh (a send that waited in the line past the freshness asks
   * Redis): a process that stalled past its lease must not broadcast at the new owner's nonces.
   */
  private async broadcastInTurn(queued: QueuedSend): Promise<void> {
    if (this.stall) {
      this.stall.behind.push(queued);
      return;
    }
    let answer: BroadcastAnswer;
    if (!(await this.leaseStillHeld().catch(() => false))) answer = { kind: "lease-lost" };
    else answer = await this.broadcastAnswer(queued.transaction.raw);
    if (answer.kind === "answered" && (answer.outcome === "sent" || answer.outcome === "known")) {
      this.unanswered.shift();
      // What is left (marking the record sent) needs no turn in the line.
      queued.answer.settle(() => this.settleAnswer(queued.transaction, true, queued.markSent, answer));
      return;
    }
    this.stall = { send: queued, answer, behind: [] };
    void this.locked(() => this.settleLine());
  }

  /**
   * Waits for the broadcast line to empty and settles a stall (under the mutex): the sends behind
   * the stalled one are withdrawn, then the stalled send is settled as a lone send would be — its
   * nonce given back if nothing was broadcast, a re-synchronisation if the node lacks a lower nonce.
   */
  private async settleLine(): Promise<void> {
    await this.line;
    const stall = this.stall;
    if (!stall) return;
    const { behind } = stall;
    if (behind.length > 0) {
      try {
        await this.database.db.delete(relayerTransactions).where(
          inArray(
            relayerTransactions.hash,
            behind.map((queued) => queued.transaction.hash),
          ),
        );
        // No nonce is handed out while the line is stalled, so these were the last ones.
        this.nextNonce = behind[0]!.transaction.nonce;
        for (const queued of behind) queued.answer.settle(() => "withdrawn");
      } catch (error) {
        // The records may stand: their nonces stay taken, and the re-synchronisation (or the
        // relay's retry) sends their bytes at them, as after a crash between record and broadcast.
        for (const queued of behind) queued.answer.settle(() => Promise.reject(error));
      }
    }
    this.unanswered = [];
    this.stall = undefined;
    const { send } = stall;
    send.answer.settle(() => this.settleAnswer(send.transaction, true, send.markSent, stall.answer));
    await send.answer.promise.catch(() => undefined);
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
      const sent = await this.signRecordSend({ nonce, call, gas, fees, relayIds });
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
        const sent = await this.signRecordSend({ nonce, call: filler, gas: 21_000n, fees, relayIds: [] });
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
      const sent = await this.signRecordSend({
        nonce: row.nonce,
        call,
        gas: transaction.gas!,
        fees,
        relayIds: row.relayIds as string[],
      });
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
   * Signs, records, broadcasts and settles a transaction at an older nonce (a replacement, a gap
   * filler, a re-signed record), under the mutex with the broadcast line empty.
   * @returns the sent transaction, or "nonce-taken" when the node says another transaction holds `nonce`
   */
  private async signRecordSend(transaction: TransactionToSign): Promise<SentTransaction | "nonce-taken"> {
    const recorded = await this.signAndRecord(transaction, false);
    return this.settleAnswer(recorded, false, true, await this.broadcastAnswer(recorded.raw));
  }

  /**
   * Signs and records (before anything leaves the process), and re-checks the lease (the fence: a
   * process that stalled past its lease must not broadcast at the new owner's nonces). `fresh`:
   * `nonce` is the next one (consumed here), and `nodeCount` is the node's pending count, which
   * must lie in `expected`. The record, the lease check and the count are awaited together: the
   * order between them does not matter, only that each is done before anything leaves the process.
   * @returns the recorded transaction, or the node's pending count when it lies outside `expected`
   *   (the record is forgotten)
   */
  private signAndRecord(transaction: TransactionToSign, fresh: false): Promise<RecordedTransaction>;
  private signAndRecord(
    transaction: TransactionToSign,
    fresh: true,
    nodeCount: Promise<number>,
    expected: { from: number; to: number },
  ): Promise<RecordedTransaction | number>;
  private async signAndRecord(
    transaction: TransactionToSign,
    fresh: boolean,
    nodeCount?: Promise<number>,
    expected?: { from: number; to: number },
  ): Promise<RecordedTransaction | number> {
    const { nonce, call, gas, fees, relayIds } = transaction;
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
    const recorded = { ...transaction, hash, raw };
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
      this.leaseStillHeld(),
      nodeCount ?? Promise.resolve(nonce),
    ]);
    if (record.status === "rejected") {
      // The insert may have committed with its answer lost: this nonce is never handed out again.
      // The next re-synchronisation re-sends the row if it exists, or fills the nonce.
      if (fresh) this.nextNonce = Math.max(this.nextNonce, nonce + 1);
      throw record.reason;
    }
    if (fresh) this.nextNonce = nonce + 1;
    if (lease.status === "rejected" || !lease.value) {
      await this.forget(recorded, fresh);
      throw new RelayerLeaseLostError(this.address);
    }
    if (node.status === "rejected") {
      await this.forget(recorded, fresh);
      throw node.reason;
    }
    const { from, to } = expected ?? { from: nonce, to: nonce };
    if (node.value < from || node.value > to) {
      await this.forget(recorded, fresh);
      return node.value;
    }
    return recorded;
  }

  /** The lease, by a check at most LEASE_CHECK_FRESHNESS of its lifetime old (see key-lease.ts). */
  private leaseStillHeld(): Promise<boolean> {
    return this.lease.stillHeld(this.lease.ms * LEASE_CHECK_FRESHNESS);
  }

  /** Sends recorded bytes; never throws (a failed request is an answer of its own). */
  private async broadcastAnswer(raw: Hex): Promise<BroadcastAnswer> {
    try {
      return { kind: "answered", outcome: await this.sendRaw(raw) };
    } catch (error) {
      return { kind: "failed", error };
    }
  }

  /**
   * What follows a broadcast's answer, under the mutex unless the node simply took the bytes:
   * a nonce given back when nothing can mine, a re-synchronisation when the node lacks a lower nonce.
   * @returns the sent transaction, or "nonce-taken" when another transaction holds the nonce (a
   *   fresh send then moves past it)
   */
  private async settleAnswer(
    recorded: RecordedTransaction,
    fresh: boolean,
    markSent: boolean,
    answer: BroadcastAnswer,
  ): Promise<SentTransaction | "nonce-taken"> {
    const { nonce, hash, raw, fees, gas } = recorded;
    if (answer.kind === "lease-lost") {
      await this.forget(recorded, fresh);
      throw new RelayerLeaseLostError(this.address);
    }
    let outcome: Awaited<ReturnType<RelayerKey["sendRaw"]>>;
    if (answer.kind === "failed") {
      const { error } = answer;
      // A transport failure: the node may hold the transaction, so the nonce stays taken and the
      // bytes are re-sent later.
      if (isTransportFailure(error)) throw error;
      // The node answered with an error. Refused bytes can never mine, so the nonce is given back
      // (under the mutex, with nothing later broadcast: the sends behind it were withdrawn) — unless
      // the node took them anyway: Hardhat answers an error for a transaction that reverts or runs
      // out of gas and mines it all the same. What the node holds is sent, and is followed like any other.
      if (!(await this.holds(hash))) {
        await this.forget(recorded, fresh);
        throw error;
      }
      this.logger.warn(
        { relayer: this.address, nonce, hash, err: fullMessage(error).trim().split("\n")[0] },
        "the node answered the broadcast with an error but holds the transaction; following it",
      );
      outcome = "sent";
    } else outcome = answer.outcome;
    if (outcome === "nonce-too-low") {
      // Ours, mined already (a retried request whose first answer was lost)? Or another's?
      if (!(await this.holds(hash))) {
        await this.forget(recorded, fresh);
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

  /** Deletes the record of bytes never broadcast; a fresh send's nonce is given back if it was the last one handed out. */
  private async forget({ nonce, hash }: RecordedTransaction, fresh: boolean): Promise<void> {
    await this.database.db.delete(relayerTransactions).where(eq(relayerTransactions.hash, hash));
    if (fresh && this.nextNonce === nonce + 1) this.nextNonce = nonce;
  }

  /** Whether the node holds the transaction (pending or mined); a failed read counts as not. */
  private async holds(hash: Hex): Promise<boolean> {
    return (await this.publicClient.getTransaction({ hash }).catch(() => undefined)) !== undefined;
  }

  /** Runs `fn` under the mutex once the broadcast line is empty and any stall settled. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.locked(async () => {
      await this.settleLine();
      return fn();
    });
  }

  /** Runs `fn` under the mutex. */
  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.mutex.then(fn, fn);
    this.mutex = run.catch(() => undefined);
    return run;
  }
}

/** A promise settled later by the outcome of a function: its value, or what it throws or rejects with. */
type Deferred<T> = { promise: Promise<T>; settle: (outcome: () => T | Promise<T>) => void };

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T | Promise<T>) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((onValue, onError) => {
    resolve = onValue;
    reject = onError;
  });
  // Its reader awaits it; this only keeps a rejection settled before that from counting as unhandled.
  promise.catch(() => undefined);
  return {
    promise,
    settle: (outcome) => {
      try {
        resolve(outcome());
      } catch (error) {
        reject(error);
      }
    },
  };
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
