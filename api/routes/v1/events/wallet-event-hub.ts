/**
 * The wallet event streams of one API process, and the one loop that feeds them.
 *
 * Why a loop here and none in the browser: a movement's state is a combination of facts recorded
 * by other processes (the relayer's relay rows, the indexer's head — see
 * api/movements/movement-state.ts), and neither announces them. So while at least one stream is
 * open, this process reads each watched wallet once per tick — one snapshot per wallet, however
 * many tabs watch it (api/routes/v1/events/wallet-snapshot.ts) — and pushes a `wallet` event to a
 * stream only when what it shows changed. Nothing runs while nobody watches. A relayer or indexer
 * notification (PostgreSQL NOTIFY, the relay queue's events) can later replace the tick without
 * changing the streams or their events.
 *
 * Every stream re-checks its credential every few seconds: a session that expires or is revoked,
 * or an API key revoked, ends its streams with an `end` event (code UNAUTHENTICATED) within
 * {@link REAUTHENTICATE_EVERY_MS}, just as its next request would be refused.
 */
import type { Logger } from "../../../../lib/logging/logger.ts";
import type { AppServices } from "../../../dependencies.ts";
import { readWalletSnapshot } from "./wallet-snapshot.ts";

/** How often watched wallets are read while any stream is open. */
export const TICK_MS = 500;
/** How often each stream's credential is checked again. */
export const REAUTHENTICATE_EVERY_MS = 5_000;
/** A comment line this often keeps proxies and the browser from closing an idle stream. */
export const KEEP_ALIVE_EVERY_MS = 15_000;

export type WalletStream = {
  walletId: string;
  wallet: { id: string; address: string };
  userId: string;
  /** Still authenticated? Checked every {@link REAUTHENTICATE_EVERY_MS}. */
  stillAuthenticated: () => Promise<boolean>;
  /** Writes one server-sent event. */
  send: (event: string, data: unknown) => void;
  /** Writes a comment line (keep-alive). */
  comment: (text: string) => void;
  /** Ends the HTTP response. */
  end: () => void;
  lastFingerprint?: string;
  lastLedgerFingerprint?: string;
};

type Services = Pick<AppServices, "database" | "relay" | "chainId">;

/** Creates the hub of one API process; `close()` ends every stream (the API's preClose). */
export function createWalletEventHub(services: Services, logger: Logger) {
  const streams = new Set<WalletStream>();
  let timer: NodeJS.Timeout | undefined;
  let ticking = false;
  let lastAuthCheck = Date.now();
  let lastKeepAlive = Date.now();
  let failing = false;

  const stop = (stream: WalletStream) => {
    streams.delete(stream);
    if (streams.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };

  async function reauthenticate(): Promise<void> {
    await Promise.all(
      [...streams].map(async (stream) => {
        if (await stream.stillAuthenticated().catch(() => true)) return;
        stream.send("end", { code: "UNAUTHENTICATED", message: "The session or key ended; sign in again" });
        stream.end();
        stop(stream);
      }),
    );
  }

  /** Reads every watched wallet once and sends what changed to each of its streams. */
  async function tick(): Promise<void> {
    if (ticking) return;
    ticking = true;
    try {
      const now = Date.now();
      if (now - lastAuthCheck >= REAUTHENTICATE_EVERY_MS) {
        lastAuthCheck = now;
        await reauthenticate();
      }
      if (now - lastKeepAlive >= KEEP_ALIVE_EVERY_MS) {
        lastKeepAlive = now;
        for (const stream of streams) stream.comment("keep-alive");
      }
      const byWallet = new Map<string, WalletStream[]>();
      for (const stream of streams) byWallet.set(stream.walletId, [...(byWallet.get(stream.walletId) ?? []), stream]);
      for (const watchers of byWallet.values()) await publish(watchers);
      if (failing) {
        failing = false;
        for (const stream of streams) stream.send("status", { live: true });
      }
    } catch (error) {
      if (!failing) {
        logger.warn({ err: error }, "wallet event streams: a read failed; retrying every tick");
        for (const stream of streams)
          stream.send("status", { live: false, code: "DATABASE_UNAVAILABLE", message: "Live updates are paused" });
      }
      failing = true;
    } finally {
      ticking = false;
    }
  }

  async function publish(watchers: WalletStream[]): Promise<void> {
    const wallet = watchers[0]!.wallet;
    const first = await readWalletSnapshot(services, wallet, { history: false });
    const ledgerChanged = watchers.some((stream) => stream.lastLedgerFingerprint !== first.ledgerFingerprint);
    const withHistory = ledgerChanged ? await readWalletSnapshot(services, wallet, { history: true }) : undefined;
    for (const stream of watchers) {
      const read = stream.lastLedgerFingerprint !== first.ledgerFingerprint ? withHistory! : first;
      if (read.fingerprint === stream.lastFingerprint && read.ledgerFingerprint === stream.lastLedgerFingerprint)
        continue;
      stream.send("wallet", read.snapshot);
      stream.lastFingerprint = read.fingerprint;
      stream.lastLedgerFingerprint = read.ledgerFingerprint;
    }
  }

  return {
    /** Streams open for one principal (the route caps them). */
    countFor: (userId: string) => [...streams].filter((stream) => stream.userId === userId).length,
    /** Starts a stream: its first `wallet` event (with history) goes out on the next tick. */
    add(stream: WalletStream): void {
      streams.add(stream);
      if (!timer) {
        timer = setInterval(() => void tick(), TICK_MS);
        timer.unref();
      }
      void tick();
    },
    remove: stop,
    /** Ends every stream, so the server can close. */
    close(): void {
      for (const stream of streams) {
        stream.send("end", { code: "SERVER_CLOSING", message: "The server is restarting; reconnect" });
        stream.end();
      }
      streams.clear();
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}

export type WalletEventHub = ReturnType<typeof createWalletEventHub>;
