/**
 * Live wallet events: reads GET /v1/events/wallets/:id (server-sent events) with fetch, since
 * EventSource cannot send the Authorization header. The server pushes a whole snapshot whenever
 * something changed; the app never asks again. A dropped stream reconnects after the server's
 * `retry` delay (doubling up to 30 s while it keeps failing) — a reconnect, not a poll: nothing is
 * requested while the stream is open.
 */
import { authHeaders } from "./client.ts";
import type { WalletSnapshot } from "./types.ts";

export type StreamState = "connecting" | "live" | "paused" | "closed";

export function watchWallet(
  walletId: string,
  handlers: {
    onSnapshot: (snapshot: WalletSnapshot) => void;
    onState: (state: StreamState, code?: string) => void;
  },
): () => void {
  const controller = new AbortController();
  let retryMs = 2_000;
  let stopped = false;

  const run = async () => {
    while (!stopped) {
      handlers.onState("connecting");
      try {
        const response = await fetch(`/v1/events/wallets/${walletId}`, {
          headers: { accept: "text/event-stream", ...authHeaders() },
          signal: controller.signal,
        });
        if (!response.ok || !response.body) {
          const code = ((await response.json().catch(() => ({}))) as { error?: { code?: string } }).error?.code;
          handlers.onState("closed", code ?? "NETWORK");
          if (response.status === 401 || response.status === 403 || response.status === 404) return;
        } else {
          const ended = await read(response.body);
          if (ended === "UNAUTHENTICATED") {
            handlers.onState("closed", ended);
            return;
          }
          retryMs = 2_000;
        }
      } catch (error) {
        if (stopped) return;
        handlers.onState("paused", "NETWORK");
        void error;
      }
      if (stopped) return;
      await new Promise((resolve) => setTimeout(resolve, retryMs));
      retryMs = Math.min(retryMs * 2, 30_000);
    }
  };

  /** Reads events until the stream closes; returns the `end` event's code, if any. */
  const read = async (body: ReadableStream<Uint8Array>): Promise<string | undefined> => {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return undefined;
      buffer += decoder.decode(value, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let event = "message";
        let data = "";
        for (const line of block.split("\n")) {
          if (line.startsWith("event: ")) event = line.slice(7);
          else if (line.startsWith("data: ")) data += line.slice(6);
          else if (line.startsWith("retry: ")) retryMs = Number(line.slice(7)) || retryMs;
        }
        if (!data) continue;
        const payload = JSON.parse(data) as unknown;
        if (event === "wallet") {
          handlers.onState("live");
          handlers.onSnapshot(payload as WalletSnapshot);
        } else if (event === "status") {
          const status = payload as { live: boolean; code?: string };
          handlers.onState(status.live ? "live" : "paused", status.code);
        } else if (event === "end") {
          return (payload as { code?: string }).code;
        }
      }
    }
  };

  void run();
  return () => {
    stopped = true;
    controller.abort();
  };
}
