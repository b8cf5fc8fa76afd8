import { and, desc, eq, gte, inArray } from "drizzle-orm";
import { HttpRequestError, TimeoutError, keccak256, type Address, type Hex, type PublicClient } from "viem";

import type { Database } from "../lib/db/database.ts";
import type { Logger } from "../lib/logging/logger.ts";
import type { Signer } from "../lib/signing/signer.ts";
import type { RelayCall } from "./build-call.ts";
import { relayerTransactions } from "./db/schema.ts";
import { RelayerLeaseLostError } from "./errors.ts";
import type { Fees } from "./gas-fees.ts";
import type { KeyLease } from "./key-lease.ts";

export type SentTransaction = { nonce: number; hash: Hex; raw: Hex; fees: Fees; gas: bigint };

/**
 * One relayer key and its nonce manager, inside the process holding the key's lease.
 *
 * Invariant: nonces are handed out one at a time under a mutex, and a nonce is consumed only
 * once its signed transaction is recorded (table relayer_transactions) — before it is
 * broadcast. So nonces are contiguous: a failure before the record gives the nonce back; a
 * failure after it leaves bytes that {@link RelayerKey.start} (or the relay's retry) re-sends at
 * that same nonce. A broadcast transaction is only ever replaced at its nonce, never re-sent at
 * a new one, so nothing can be paid twice.
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
   * Re-synchronises from the chain and fills gaps: every recorded-but-unmined nonce is
   * re-broadcast from its recorded bytes; a nonce below the highest recorded one with no record
   * gets a 0-value self-send, so the key never jams.
   */
  async start(): Promise<void> {
    await this.exclusive(async () => {
      const latest = await this.publicClient.getTransactionCount({ address: this.address, blockTag: "latest" });
      const pending = await this.publicClient.getTransactionCount({ address: this.address, blockTag: "pending" });
      const rows = await this.database.db
        .select()
        .from(relayerTransactions)
        .where(
          and(
            eq(relayerTransactions.relayer, this.address),
            gte(relayerTransactions.nonce, latest),
            inArray(relayerTransactions.status, ["signed", "sent"]),
          ),
        )
        .orderBy(relayerTransactions.nonce, desc(relayerTransactions.id));
      const newestByNonce = new Map<number, (typeof rows)[number]>();
      for (const row of rows) if (!newestByNonce.has(row.nonce)) newestByNonce.set(row.nonce, row);
      const highest = Math.max(pending - 1, ...newestByNonce.keys());
      for (let nonce = latest; nonce <= highest; nonce += 1) {
        const row = newestByNonce.get(nonce);
        if (row) {
          this.logger.warn(
            { relayer: this.address, nonce, hash: row.hash },
            "re-broadcasting a recorded transaction not yet mined",
          );
          await this.broadcast(row.raw as Hex);
          await this.database.db
            .update(relayerTransactions)
            .set({ status: "sent" })
            .where(eq(relayerTransactions.id, row.id));
        } else if (nonce >= pending) {
          this.logger.warn({ relayer: this.address, nonce }, "filling a nonce gap with a 0-value self-send");
          const fees = await this.currentFees();
          await this.signRecordSend(nonce, { to: this.address, data: "0x", value: 0n }, 21_000n, fees, []);
        }
      }
      this.nextNonce = Math.max(pending, highest + 1);
      this.logger.info(
        { relayer: this.address, nextNonce: this.nextNonce, lease: this.lease.token },
        "relayer key ready",
      );
    });
  }

  /**
   * Takes the next nonce, signs, records and broadcasts `call` for `relayIds`.
   * @throws RelayerLeaseLostError when another process owns the key now (nothing was signed)
   */
  send(call: RelayCall, gas: bigint, fees: Fees, relayIds: string[]): Promise<SentTransaction> {
    return this.exclusive(async () => {
      if (!(await this.lease.stillHeld())) throw new RelayerLeaseLostError(this.address);
      // The chain may know more of this key's transactions than we do: the key used outside the
      // relayer (a script with the deployer's key on a local chain). Those nonces are spent, so we
      // move past them — never below our own count, which would reuse a nonce of ours.
      const onChain = await this.publicClient.getTransactionCount({ address: this.address, blockTag: "pending" });
      if (onChain > this.nextNonce) {
        this.logger.warn(
          { relayer: this.address, expected: this.nextNonce, onChain },
          "the key sent transactions outside the relayer; continuing after them",
        );
        this.nextNonce = onChain;
      }
      const nonce = this.nextNonce;
      const sent = await this.signRecordSend(nonce, call, gas, fees, relayIds, () => {
        this.nextNonce = nonce + 1;
      });
      return sent;
    });
  }

  /** Signs a replacement at `nonce` with higher fees, records it, marks the older one replaced, broadcasts. */
  replace(
    nonce: number,
    call: RelayCall,
    gas: bigint,
    fees: Fees,
    relayIds: string[],
    replacedHash: Hex,
  ): Promise<SentTransaction> {
    return this.exclusive(async () => {
      if (!(await this.lease.stillHeld())) throw new RelayerLeaseLostError(this.address);
      await this.database.db
        .update(relayerTransactions)
        .set({ status: "replaced" })
        .where(eq(relayerTransactions.hash, replacedHash));
      return this.signRecordSend(nonce, call, gas, fees, relayIds);
    });
  }

  /** Broadcasts recorded bytes again; "already known" and "nonce too low" mean it is in (or was mined). */
  async broadcast(raw: Hex): Promise<void> {
    try {
      await this.publicClient.sendRawTransaction({ serializedTransaction: raw });
    } catch (error) {
      const message = (error as Error).message.toLowerCase();
      if (/already known|known transaction|nonce too low|already imported|nonce has already been used/.test(message))
        return;
      throw error;
    }
  }

  async release(): Promise<void> {
    await this.lease.release();
  }

  private async currentFees(): Promise<Fees> {
    const { maxFeePerGas, maxPriorityFeePerGas } = await this.publicClient.estimateFeesPerGas();
    return { maxFeePerGas: maxFeePerGas!, maxPriorityFeePerGas: maxPriorityFeePerGas! };
  }

  private async signRecordSend(
    nonce: number,
    call: RelayCall,
    gas: bigint,
    fees: Fees,
    relayIds: string[],
    onRecorded?: () => void,
  ): Promise<SentTransaction> {
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
    await this.database.db.insert(relayerTransactions).values({
      relayer: this.address,
      nonce,
      hash,
      raw,
      relayIds,
      maxFeePerGas: fees.maxFeePerGas.toString(),
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas.toString(),
      status: "signed",
    });
    try {
      await this.broadcast(raw);
    } catch (error) {
      // The node answered and refused the bytes: they can never mine, so the nonce is given back
      // (we are under the mutex; nothing later was signed). A transport failure is different: the
      // node may hold the transaction, so the nonce stays taken and the bytes are re-sent later.
      if (isNodeRejection(error)) {
        await this.database.db.delete(relayerTransactions).where(eq(relayerTransactions.hash, hash));
        throw error;
      }
      onRecorded?.();
      throw error;
    }
    onRecorded?.();
    await this.database.db
      .update(relayerTransactions)
      .set({ status: "sent" })
      .where(eq(relayerTransactions.hash, hash));
    return { nonce, hash, raw, fees, gas };
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** Whether the node itself answered with an error (as opposed to a lost request or response). */
function isNodeRejection(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const walk = (error as { walk?: (fn: (e: unknown) => boolean) => unknown }).walk;
  const transport = walk?.call(error, (inner) => inner instanceof HttpRequestError || inner instanceof TimeoutError);
  return !transport;
}
