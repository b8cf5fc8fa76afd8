/** Loads something for a page: data, error and loading state, and a way to load again. */
import { useCallback, useEffect, useRef, useState } from "preact/hooks";

export type Async<T> = { data: T | undefined; error: unknown; loading: boolean; reload: () => void };

export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Async<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const [attempt, setAttempt] = useState(0);
  const latest = useRef(0);
  useEffect(() => {
    const controller = new AbortController();
    const run = ++latest.current;
    setState((s) => ({ ...s, loading: true, error: undefined }));
    load(controller.signal).then(
      (data) => run === latest.current && setState({ data, error: undefined, loading: false }),
      (error: unknown) =>
        run === latest.current &&
        (error as Error)?.name !== "AbortError" &&
        setState((s) => ({ data: s.data, error, loading: false })),
    );
    return () => controller.abort();
  }, [...deps, attempt]);
  const reload = useCallback(() => setAttempt((n) => n + 1), []);
  return { ...state, reload };
}
