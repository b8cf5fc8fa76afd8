/**
 * The chain's head as the API's reads see it: one `eth_getBlockByNumber("latest")` shared by every
 * caller that asked for it before it was sent, and per-head memory for reads that only change with
 * a new block.
 *
 * Freshness: a caller never gets a head read sent before it asked. Callers arriving within one turn
 * of the event loop join one read, sent in the `setImmediate` after them — so a request made after
 * a transaction's receipt (a freeze, a transfer) sees that block or a later one, exactly as a read
 * of its own would; under load, many concurrent requests share one read instead of each sending
 * theirs. Reads pinned to that block (see {@link ChainHead.atHead}) are remembered under its hash:
 * a new block (or a reorg, which changes the hash) forgets them all.
 *
 * Pinned: inside {@link ChainHead.pinned} every read is at the one head read first there, so the
 * checks of one movement (pause, freeze flags, balance, chain time) see one block, read once.
 */
import { AsyncLocalStorage } from "node:async_hooks";

import type { PublicClient } from "viem";

/** The block every read of one request is pinned to. */
export type HeadBlock = { number: bigint; hash: `0x${string}`; timestamp: bigint };

export type ChainHead = {
  /** A head read sent after this call (shared with the callers of the same event-loop turn). */
  latest: () => Promise<HeadBlock>;
  /**
   * `read(head)` for the current head, remembered under the head's hash and `key`: the first caller
   * at a head reads, the others (also those in flight) share its answer. A failed read is forgotten.
   */
  atHead: <T>(key: string, read: (head: HeadBlock) => Promise<T>) => Promise<T>;
  /**
   * Runs `work` with one head for all its reads: the first read inside it reads the head (sent after
   * `pinned` was entered), every later one reuses it. Nested calls share the outer head.
   */
  pinned: <T>(work: () => Promise<T>) => Promise<T>;
};

// A head that stays put (an idle local chain) would otherwise remember every address ever asked about.
const MAX_REMEMBERED = 10_000;

/**
 * @param client - the API's public client
 */
export function createChainHead(client: PublicClient): ChainHead {
  let next: Promise<HeadBlock> | undefined;
  let remembered: { hash: string; number: bigint; values: Map<string, Promise<unknown>> } = {
    hash: "",
    number: -1n,
    values: new Map(),
  };

  const pins = new AsyncLocalStorage<{ head?: Promise<HeadBlock> }>();

  const read = () => {
    // Joined only until it is sent: whoever asks later gets a read sent after its own request.
    next ??= new Promise<HeadBlock>((resolve, reject) => {
      setImmediate(() => {
        next = undefined;
        client
          .getBlock({ blockTag: "latest" })
          .then((block) => resolve({ number: block.number, hash: block.hash, timestamp: block.timestamp }), reject);
      });
    });
    return next;
  };

  const latest = () => {
    const pin = pins.getStore();
    if (!pin) return read();
    pin.head ??= read();
    return pin.head;
  };

  const pinned = <T>(work: () => Promise<T>) => (pins.getStore() ? work() : pins.run({}, work));

  const atHead = async <T>(key: string, readAt: (head: HeadBlock) => Promise<T>): Promise<T> => {
    const head = await latest();
    if (remembered.hash !== head.hash || remembered.values.size >= MAX_REMEMBERED) {
      // A head older than the one remembered may still arrive (reads answered out of order): it is
      // read, not remembered, so the newer head's values stay.
      if (remembered.hash !== head.hash && head.number < remembered.number) return readAt(head);
      remembered = { hash: head.hash, number: head.number, values: new Map() };
    }
    const values = remembered.values;
    let value = values.get(key) as Promise<T> | undefined;
    if (!value) {
      value = readAt(head);
      values.set(key, value);
      value.catch(() => values.get(key) === value && values.delete(key));
    }
    return value;
  };

  return { latest, atHead, pinned };
}
