/**
 * Group commit: items handed in while a write is in flight wait and go together in the next write,
 * one write per group key. A lone item is written in the next turn of the event loop (so the items
 * of one turn — receipts read together, jobs taken together — share it); under load the groups grow
 * by themselves, and a statement's cost (parse, plan, round trip) is paid once per group instead of
 * once per item. Each caller's promise settles with its own group's write: a failed write rejects
 * every item of its group (each caller then fails or retries as after a write of its own). Nothing
 * is acknowledged before it is written.
 */
export type GroupCommit<Item, Result> = (item: Item) => Promise<Result>;

type Pending<Item, Result> = { item: Item; resolve: (result: Result) => void; reject: (error: unknown) => void };

/**
 * @param write - writes a group; answers one result per item, in the items' order
 * @param groupKey - items with different keys never share a write (one statement shape per key)
 */
export function createGroupCommit<Item, Result>(
  write: (items: Item[]) => Promise<Result[]>,
  groupKey: (item: Item) => string = () => "",
): GroupCommit<Item, Result> {
  let pending: Pending<Item, Result>[] = [];
  let writing = false;

  const writeGroup = async (group: Pending<Item, Result>[]) => {
    try {
      const results = await write(group.map((entry) => entry.item));
      group.forEach((entry, index) => entry.resolve(results[index]!));
    } catch (error) {
      for (const entry of group) entry.reject(error);
    }
  };

  const flush = async () => {
    while (pending.length > 0) {
      const taken = pending;
      pending = [];
      const groups = new Map<string, Pending<Item, Result>[]>();
      for (const entry of taken) {
        const key = groupKey(entry.item);
        const group = groups.get(key);
        if (group) group.push(entry);
        else groups.set(key, [entry]);
      }
      await Promise.all([...groups.values()].map(writeGroup));
    }
    writing = false;
  };

  return (item) =>
    new Promise<Result>((resolve, reject) => {
      pending.push({ item, resolve, reject });
      if (!writing) {
        writing = true;
        setImmediate(() => void flush());
      }
    });
}
