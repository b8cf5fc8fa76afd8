import type { ComponentChildren } from "preact";
import { useEffect } from "preact/hooks";

/** A page's landmark and its one h1 (the target of the skip link and of focus after navigation). */
export function Main({
  title,
  lead,
  children,
}: {
  title: string;
  lead?: ComponentChildren;
  children: ComponentChildren;
}) {
  useEffect(() => {
    document.title = `${title} · Stablerail`;
  }, [title]);
  return (
    <main id="main" class="page" tabIndex={-1}>
      <h1>{title}</h1>
      {lead ? <p class="lead">{lead}</p> : null}
      {children}
    </main>
  );
}
