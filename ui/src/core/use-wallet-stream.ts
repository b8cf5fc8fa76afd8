/** A wallet's live snapshot from the event stream (api/events.ts), and the stream's state. */
import { useEffect, useState } from "preact/hooks";

import { watchWallet, type StreamState } from "../http/events.ts";
import type { HistoryItem, WalletSnapshot } from "../http/types.ts";

export function useWalletStream(walletId: string | undefined) {
  const [snapshot, setSnapshot] = useState<WalletSnapshot>();
  const [history, setHistory] = useState<HistoryItem[]>();
  const [state, setState] = useState<{ state: StreamState; code?: string | undefined }>({ state: "connecting" });
  useEffect(() => {
    setSnapshot(undefined);
    setHistory(undefined);
    if (!walletId) return;
    return watchWallet(walletId, {
      onSnapshot: (next) => {
        setSnapshot(next);
        if (next.history) setHistory(next.history);
      },
      onState: (next, code) => setState({ state: next, code }),
    });
  }, [walletId]);
  return { snapshot, history, stream: state };
}
