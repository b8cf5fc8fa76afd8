/**
 * A movement's risk features from what the engine gathered about it — pure, so the API computes
 * them exactly as the synthetic population (scripts/risk/synthetic-population.ts) the model was
 * trained on: windows include the movement itself, history is the user's last 50 accepted amounts.
 */
import type { RiskFeatures } from "../../lib/risk-model/features.ts";
import type { WindowTotals } from "./velocity-windows.ts";

/** Amounts this close under it (90 %..100 %) count as structuring just under a threshold. */
export const STRUCTURING_THRESHOLD = 1_000_000_000n;

export type GatheredFacts = {
  amount: bigint;
  kind: string;
  tier: string;
  /** The movement leaves one of the user's own wallets (not an escrow step, a treasury payout, …). */
  senderOwn: boolean;
  recipientFirstTime: boolean;
  recipientOnPlatform: boolean;
  /** The user's last accepted amounts (at most 50), any order. */
  history: readonly bigint[];
  historyCount: number;
  sessionAgeSeconds: number | null;
  deviceAgeSeconds: number | null;
  screeningHit: boolean;
  /** The rule set's windows, each by name and length. */
  windows: readonly { name: string; seconds: number }[];
  /** The totals of the user's windows by length, this movement included (velocity-windows.ts). */
  windowTotals: readonly WindowTotals[];
};

/** Builds the feature record the rules and the model read (names in lib/risk-model/features.ts). */
export function movementFeatures(f: GatheredFacts): RiskFeatures {
  const sorted = [...f.history].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const median = sorted.length ? sorted[Math.floor(sorted.length / 2)]! : undefined;
  const features: RiskFeatures = {
    amount: f.amount,
    kind: f.kind,
    tier: f.tier,
    "sender.own": f.senderOwn,
    "recipient.firstTime": f.recipientFirstTime,
    "recipient.onPlatform": f.recipientOnPlatform,
    "history.count": f.historyCount,
    "session.ageSeconds": f.sessionAgeSeconds,
    "device.ageSeconds": f.deviceAgeSeconds,
    "screening.hit": f.screeningHit,
    "amount.justUnderThreshold": f.amount >= (STRUCTURING_THRESHOLD * 9n) / 10n && f.amount < STRUCTURING_THRESHOLD,
    "amount.ratioToMedian": median && median > 0n ? Number((f.amount * 1000n) / median) / 1000 : null,
  };
  for (const { name, seconds } of f.windows) {
    const totals = f.windowTotals.find((t) => t.seconds === seconds);
    if (!totals) throw new Error(`no totals for the ${seconds}-second window ${name}`);
    features[`window.${name}.count`] = totals.count;
    features[`window.${name}.amount`] = totals.amount;
    features[`window.${name}.recipients`] = totals.recipients;
  }
  return features;
}
