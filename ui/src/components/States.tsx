import type { ComponentChildren } from "preact";

import { ApiError, issuesOf } from "../http/client.ts";
import { wordsFor } from "../http/error-words.ts";

/** A loading placeholder announced politely to screen readers. */
export function Loading({ what = "Loading" }: { what?: string }) {
  return (
    <p class="loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      {what}…
    </p>
  );
}

/** Nothing to show yet, with what to do about it. */
export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

/**
 * An error in plain words, the API's reason under them (and each invalid field), and the code for
 * support. Announced at once (role=alert).
 */
export function ErrorNotice({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const api = error instanceof ApiError ? error : undefined;
  const code = api?.code ?? "INTERNAL";
  const issues = api ? issuesOf(api) : [];
  return (
    <div class="error" role="alert">
      <p class="error-words">{wordsFor(code)}</p>
      {api?.message ? <p class="error-reason">{api.message}</p> : null}
      {issues.length > 0 ? (
        <ul class="error-issues">
          {issues.map((issue) => (
            <li key={issue}>{issue}</li>
          ))}
        </ul>
      ) : null}
      <p class="error-code">
        Code <code>{code}</code>
        {onRetry ? (
          <button type="button" class="link" onClick={onRetry}>
            Try again
          </button>
        ) : null}
      </p>
    </div>
  );
}

/** A page section with its heading. */
export function Section({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  const headingId = `${id ?? title.toLowerCase().replace(/[^a-z0-9]+/g, "-")}-heading`;
  return (
    <section class="card" aria-labelledby={headingId}>
      <h2 id={headingId}>{title}</h2>
      {children}
    </section>
  );
}
