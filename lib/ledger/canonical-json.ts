/**
 * JSON with object keys sorted at every level, so two values compare (and hash) equal however their
 * keys were ordered — PostgreSQL's jsonb reorders them. Bigints become decimal strings, as
 * {@link toJsonSafe} makes them. Otherwise the text is exactly `JSON.stringify` of the key-sorted
 * value.
 *
 * Why not `JSON.stringify(sortKeys(toJsonSafe(value)))`: the indexer encodes every event this way (its
 * journal hash, its `event` and `args` columns), and the two copies of every object were a measurable
 * part of its JavaScript per event (issue 17). Here an object is copied only when its keys are out of
 * order or it holds a bigint; an event built with its keys in order goes to the native encoder as it
 * is (0.44–0.52 against 0.83–0.86 µs for a Transfer's event on this project's machine; a hand-written
 * encoder took 1.25 µs).
 *
 * @example
 * canonicalJson({ value: 5n, from: "0x01" }) // '{"from":"0x01","value":"5"}'
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonicalShape(value)) ?? "null";
}

/** The value itself when it is canonical already (keys in order at every level, no bigint); else a canonical copy. */
function canonicalShape(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value === null || typeof value !== "object") return value;
  // As JSON.stringify does, a value with toJSON is encoded as what toJSON returns (sorted as well).
  if (typeof (value as { toJSON?: unknown }).toJSON === "function")
    return canonicalShape((value as { toJSON: () => unknown }).toJSON());
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const inner = canonicalShape(value[i]);
      if (copy === undefined && inner !== value[i]) copy = value.slice(0, i);
      copy?.push(inner);
    }
    return copy ?? value;
  }
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object);
  let changed = false;
  for (let i = 1; i < keys.length && !changed; i++) changed = keys[i - 1]! > keys[i]!;
  if (changed) keys.sort();
  const inners = keys.map((key) => {
    const inner = canonicalShape(object[key]);
    if (inner !== object[key]) changed = true;
    return inner;
  });
  if (!changed) return object;
  // No prototype: on a plain object, assigning the key "__proto__" would set the prototype and drop the member,
  // so the same object would lose it only when its keys came out of order.
  const copy = Object.create(null) as Record<string, unknown>;
  for (let i = 0; i < keys.length; i++) copy[keys[i]!] = inners[i];
  return copy;
}
