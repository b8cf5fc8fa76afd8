/**
 * A labelled synthetic population of money movements, for training the risk model
 * (scripts/risk/train-model.ts) and measuring the engine (bench/risk/risk-engine.ts): normal users
 * and four fraud patterns, each movement described by the same features the API's risk engine
 * computes (lib/risk-model/features.ts) — windows include the movement itself, history and
 * recipients are the user's own, as the engine keeps them. Deterministic for a seed.
 *
 * Patterns (label 1): account takeover bursts (new device and session, several fast transfers to
 * new recipients), mule fan-out (many distinct new recipients within the hour), structuring (repeated
 * amounts just under the reporting threshold), new-recipient drain (one large transfer of most of the
 * balance to a first-time recipient). Normal users (label 0) have habits but also their surprises: a
 * new recipient, a new phone, an occasional large purchase.
 */
import type { RiskFeatures } from "../../lib/risk-model/features.ts";
import { createRandom } from "../../lib/seeded-random.ts";

export type SyntheticMovement = {
  userId: string;
  pattern: "normal" | "account_takeover" | "mule_fan_out" | "structuring" | "new_recipient_drain";
  label: 0 | 1;
  tier: "basic";
  kind: "transfer";
  features: RiskFeatures;
};

const UNIT = 1_000_000n;
/** The threshold structurers stay under (the travel-rule and step-up threshold of the default rules: 1,000). */
export const SYNTHETIC_THRESHOLD = 1_000n * UNIT;

/** The population's draws, on the shared seeded PRNG (lib/seeded-random.ts). */
function prng(seed: number) {
  const { next } = createRandom(seed);
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    chance: (p: number) => next() < p,
    /** Log-normal around `median`. */
    logNormal: (median: number, sigma: number) => {
      const u = Math.max(next(), 1e-12);
      const v = next();
      return median * Math.exp(sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
    },
  };
}

type Sent = { at: number; amount: bigint; to: string };
const WINDOWS = [
  ["2m", 120],
  ["1h", 3_600],
  ["24h", 86_400],
  ["30d", 2_592_000],
] as const;

/** One user's state as the engine sees it: what it sent, to whom, from which devices. */
class SimulatedUser {
  sent: Sent[] = [];
  recipients = new Set<string>();
  devices = new Map<string, number>();
  constructor(readonly id: string) {}

  features(
    now: number,
    amount: bigint,
    to: string,
    onPlatform: boolean,
    device: string,
    sessionStart: number,
  ): RiskFeatures {
    const features: RiskFeatures = {
      amount,
      kind: "transfer",
      tier: "basic",
      "sender.own": true,
      "recipient.firstTime": !this.recipients.has(to),
      "recipient.onPlatform": onPlatform,
      "history.count": this.sent.length,
      "session.ageSeconds": now - sessionStart,
      "device.ageSeconds": now - (this.devices.get(device) ?? now),
      "screening.hit": false,
      "amount.justUnderThreshold": amount >= (SYNTHETIC_THRESHOLD * 9n) / 10n && amount < SYNTHETIC_THRESHOLD,
    };
    const last = this.sent
      .slice(-50)
      .map((s) => s.amount)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const median = last.length ? last[Math.floor(last.length / 2)]! : undefined;
    features["amount.ratioToMedian"] = median && median > 0n ? Number((amount * 1000n) / median) / 1000 : null;
    for (const [name, seconds] of WINDOWS) {
      const inside = this.sent.filter((s) => s.at > now - seconds);
      features[`window.${name}.count`] = inside.length + 1;
      features[`window.${name}.amount`] = inside.reduce((sum, s) => sum + s.amount, amount);
      features[`window.${name}.recipients`] = new Set([...inside.map((s) => s.to), to]).size;
    }
    return features;
  }

  record(now: number, amount: bigint, to: string, device: string) {
    this.sent.push({ at: now, amount, to });
    this.recipients.add(to);
    if (!this.devices.has(device)) this.devices.set(device, now);
  }
}

const tokens = (value: number) => BigInt(Math.max(1, Math.round(value * 100))) * (UNIT / 100n);

/**
 * Generates the population.
 * @param seed - PRNG seed (training and held-out test populations use different seeds)
 * @param users - number of users; about 1 in 8 suffers one of the fraud patterns
 */
export function syntheticPopulation(seed: number, users = 1_000): SyntheticMovement[] {
  const rng = prng(seed);
  const out: SyntheticMovement[] = [];
  const DAY = 86_400;
  for (let u = 0; u < users; u += 1) {
    const user = new SimulatedUser(`u${seed}-${u}`);
    const median = rng.logNormal(40, 0.9);
    const contacts = Array.from({ length: rng.int(2, 8) }, (_, i) => `c${u}-${i}`);
    const perDay = rng.logNormal(1.2, 0.6);
    const homeDevice = `d${u}-home`;
    user.devices.set(homeDevice, -90 * DAY);
    let now = 0;
    const days = 30;
    const fraudAt = rng.chance(0.125) ? rng.int(10, days - 1) * DAY : undefined;
    const pattern = (["account_takeover", "mule_fan_out", "structuring", "new_recipient_drain"] as const)[
      rng.int(0, 3)
    ]!;
    let fraudDone = false;
    while (now < days * DAY) {
      now += Math.round(rng.logNormal(DAY / perDay, 0.8));
      if (fraudAt !== undefined && !fraudDone && now >= fraudAt) {
        fraudDone = true;
        emitFraud(pattern, user, now, median);
        continue;
      }
      // A normal movement, with the odd surprise.
      const newContact = rng.chance(0.1);
      const to = newContact ? `n${u}-${now}` : contacts[rng.int(0, contacts.length - 1)]!;
      const big = rng.chance(0.03);
      const amount = tokens(big ? median * rng.logNormal(15, 0.5) : rng.logNormal(median, 0.5));
      const device = rng.chance(0.02) ? `d${u}-new-${now}` : homeDevice;
      const sessionStart = now - (rng.chance(0.2) ? rng.int(10, 299) : rng.int(300, 20_000));
      out.push({
        userId: user.id,
        pattern: "normal",
        label: 0,
        tier: "basic",
        kind: "transfer",
        features: user.features(now, amount, to, rng.chance(0.7), device, sessionStart),
      });
      user.record(now, amount, to, device);
      // Sometimes a few in a row (splitting a bill).
      if (rng.chance(0.05)) {
        for (let i = 0; i < rng.int(1, 3); i += 1) {
          now += rng.int(20, 200);
          const again = tokens(rng.logNormal(median, 0.4));
          const friend = contacts[rng.int(0, contacts.length - 1)]!;
          out.push({
            userId: user.id,
            pattern: "normal",
            label: 0,
            tier: "basic",
            kind: "transfer",
            features: user.features(now, again, friend, true, homeDevice, now - 600),
          });
          user.record(now, again, friend, homeDevice);
        }
      }
    }

    function emitFraud(kind: typeof pattern, victim: SimulatedUser, start: number, usual: number) {
      const push = (
        at: number,
        amount: bigint,
        to: string,
        onPlatform: boolean,
        device: string,
        sessionStart: number,
      ) => {
        out.push({
          userId: victim.id,
          pattern: kind,
          label: 1,
          tier: "basic",
          kind: "transfer",
          features: victim.features(at, amount, to, onPlatform, device, sessionStart),
        });
        victim.record(at, amount, to, device);
      };
      let at = start;
      if (kind === "account_takeover") {
        const device = `x${u}-${start}`;
        const session = at - rng.int(5, 120);
        for (let i = 0; i < rng.int(3, 7); i += 1) {
          push(at, tokens(usual * rng.logNormal(4, 0.6)), `mule-${u}-${i}`, false, device, session);
          at += rng.int(10, 90);
        }
      } else if (kind === "mule_fan_out") {
        const device = rng.chance(0.5) ? homeDevice : `x${u}-${start}`;
        for (let i = 0; i < rng.int(6, 15); i += 1) {
          push(at, tokens(rng.logNormal(150, 0.4)), `fan-${u}-${i}`, false, device, start - 900);
          at += rng.int(60, 400);
        }
      } else if (kind === "structuring") {
        for (let i = 0; i < rng.int(3, 6); i += 1) {
          const amount = (SYNTHETIC_THRESHOLD * BigInt(rng.int(900, 995))) / 1_000n;
          push(at, amount, rng.chance(0.5) ? `s-${u}` : `s-${u}-${i}`, false, homeDevice, at - 3_000);
          at += rng.int(600, 6 * 3_600);
        }
      } else {
        const device = rng.chance(0.5) ? homeDevice : `x${u}-${start}`;
        push(
          at,
          tokens(Math.max(usual * rng.logNormal(20, 0.5), 300)),
          `drain-${u}`,
          false,
          device,
          at - rng.int(30, 2_000),
        );
      }
    }
  }
  return out;
}
