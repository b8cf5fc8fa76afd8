/** What the server tells the app before sign-in (GET /ui-config.json): chain, token, optional features. */
import { useEffect, useState } from "preact/hooks";

export type UiConfig = {
  chainId: number;
  publicOrigin: string;
  token: { address: string; symbol: string; decimals: number; name: string; version: string };
  contracts: { stablecoin: string; paymentEscrow: string; settlement: string; forwarder: string };
  features: Record<string, boolean>;
};

let loading: Promise<UiConfig> | undefined;
let loaded: UiConfig | undefined;

export function loadConfig(): Promise<UiConfig> {
  loading ??= fetch("/ui-config.json", { headers: { accept: "application/json" } })
    .then((response) => {
      if (!response.ok) throw new Error(`ui-config ${response.status}`);
      return response.json() as Promise<UiConfig>;
    })
    .then((config) => (loaded = config))
    .catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
  return loading;
}

/** The config, or undefined while it loads (and the error if it failed). */
export function useConfig(): { config: UiConfig | undefined; error: boolean; retry: () => void } {
  const [state, setState] = useState<{ config: UiConfig | undefined; error: boolean }>({
    config: loaded,
    error: false,
  });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    if (state.config) return;
    loadConfig().then(
      (config) => setState({ config, error: false }),
      () => setState({ config: undefined, error: true }),
    );
  }, [attempt]);
  return { ...state, retry: () => setAttempt((n) => n + 1) };
}

/** Whether the server has an optional feature's routes (sign-up, passkeys, auditor…). */
export const hasFeature = (config: UiConfig | undefined, name: string) => config?.features[name] === true;
