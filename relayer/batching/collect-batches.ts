/** An in-memory gatherer of items into batches, one open batch per group. */
export type BatchCollector<T, R> = {
  /**
   * Adds `item` to the open batch of `group` (opening one when none is).
   * @returns the item's result once its batch was sent; rejects when sending the batch threw
   */
  add: (group: string, item: T) => Promise<R>;
  /** Items waiting in open batches (for tests and logs). */
  readonly waiting: number;
};

export type CreateBatchCollectorParameters<T, R> = {
  /** A batch is sent as soon as it holds this many items. */
  maxSize: number;
  /** A batch is sent this long after its first item arrived, however few items it holds. */
  waitMs: number;
  /** Sends one batch; returns one result per item, in the items' order. A throw rejects every item. */
  send: (group: string, items: T[]) => Promise<R[]>;
};

type Waiting<T, R> = { item: T; resolve: (result: R) => void; reject: (error: unknown) => void };
type OpenBatch<T, R> = { entries: Waiting<T, R>[]; timer: NodeJS.Timeout };

/**
 * Gathers items into batches per group: a batch closes when it is full or when the first item
 * has waited `waitMs`, whichever comes first, and is then sent while a new one opens. Pure
 * scheduling, no I/O of its own: the caller's `send` does the work.
 * @example
 * const collector = createBatchCollector({ maxSize: 10, waitMs: 50, send: async (_, xs) => xs.map((x) => x * 2) });
 * await collector.add("token", 21); // 42, within 50 ms
 */
export function createBatchCollector<T, R>(p: CreateBatchCollectorParameters<T, R>): BatchCollector<T, R> {
  const open = new Map<string, OpenBatch<T, R>>();

  const close = (group: string) => {
    const batch = open.get(group);
    if (!batch) return;
    open.delete(group);
    clearTimeout(batch.timer);
    const { entries } = batch;
    // `send` may throw synchronously or asynchronously; either way every item hears about it.
    Promise.resolve()
      .then(() =>
        p.send(
          group,
          entries.map((entry) => entry.item),
        ),
      )
      .then((results) => {
        if (results.length !== entries.length)
          throw new Error(`batch send returned ${results.length} results for ${entries.length} items`);
        entries.forEach((entry, index) => entry.resolve(results[index] as R));
      })
      .catch((error: unknown) => {
        for (const entry of entries) entry.reject(error);
      });
  };

  return {
    add: (group, item) =>
      new Promise<R>((resolve, reject) => {
        let batch = open.get(group);
        if (!batch) {
          batch = { entries: [], timer: setTimeout(() => close(group), p.waitMs) };
          open.set(group, batch);
        }
        batch.entries.push({ item, resolve, reject });
        if (batch.entries.length >= p.maxSize) close(group);
      }),
    get waiting() {
      let count = 0;
      for (const batch of open.values()) count += batch.entries.length;
      return count;
    },
  };
}
