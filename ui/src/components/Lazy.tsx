import type { ComponentType } from "preact";
import { useEffect, useState } from "preact/hooks";

import { ErrorNotice, Loading } from "./States.tsx";

/** A page loaded on first use (its own chunk), with loading and error states. */
export function lazyPage<P extends object>(load: () => Promise<ComponentType<P>>) {
  let cached: ComponentType<P> | undefined;
  return function LazyPage(props: P) {
    const [component, setComponent] = useState<ComponentType<P> | undefined>(() => cached);
    const [error, setError] = useState<unknown>();
    useEffect(() => {
      if (cached) return;
      load().then(
        (loaded) => {
          cached = loaded;
          setComponent(() => loaded);
        },
        (failure: unknown) => setError(failure),
      );
    }, []);
    if (error) return <ErrorNotice error={error} onRetry={() => location.reload()} />;
    if (!component) return <Loading what="Loading the page" />;
    const Component = component;
    return <Component {...props} />;
  };
}
