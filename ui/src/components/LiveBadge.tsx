import type { StreamState } from "../http/events.ts";

/** Whether the page is receiving live updates. */
export function LiveBadge({ state }: { state: StreamState }) {
  const words: Record<StreamState, string> = {
    connecting: "Connecting…",
    live: "Live",
    paused: "Live updates paused — reconnecting",
    closed: "Live updates off",
  };
  return (
    <span class={`live ${state}`} role="status" aria-live="polite" data-stream={state}>
      {words[state]}
    </span>
  );
}
