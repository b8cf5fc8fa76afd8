/**
 * A movement's risk features from what the engine gathered about it — pure, so the API computes
 * them exactly as the synthetic population (scripts/risk/synthetic-population.ts) the model was
 * trained on: windows include the movement itself, history is the user's last 50 accepted amounts.
 */
import type { RiskFeatures } from "../../lib/risk-model/features.ts";
import type { WindowedMovement } from "./velocity-windows.ts";

/** Amounts this close under it (90 %..100 %) count as structuring just under a threshold. */
export const STRUCTURING_THRESHOLD = 1_000_000_000n;

export type GatheredFacts = {
  amount: bigint;
  kind: string;
  tier: string;
  to: string;
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
  /** Server time (ms) and the movements already in the user's windows. */
  now: number;
  inside: readonly WindowedMovement[];
  windows: readonly { name: string; seconds: number }[];
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
  const to = f.to.toLowerCase();
  for (const { name, seconds } of f.windows) {
    const inside = f.inside.filter((m) => m.at > f.now - seconds * 1000);
    features[`window.${name}.count`] = inside.length + 1;
    features[`window.${name}.amount`] = inside.reduce((sum, m) => sum + m.amount, f.amount);
    features[`window.${name}.recipients`] = new Set([...inside.map((m) => m.to), to]).size;
  }
  return features;
}
