/** A value the app shares, with a hook that re-renders on change (a few lines instead of a state library). */
import { useEffect, useState } from "preact/hooks";

export type Store<T> = { value: T; set: (value: T) => void; subscribe: (listener: () => void) => () => void };

export function createStore<T>(initial: T): Store<T> {
  const listeners = new Set<() => void>();
  const store: Store<T> = {
    value: initial,
    set(value) {
      store.value = value;
      for (const listener of listeners) listener();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return store;
}

export function useStore<T>(store: Store<T>): T {
  const [, setTick] = useState(0);
  useEffect(() => store.subscribe(() => setTick((n) => n + 1)), [store]);
  return store.value;
}
