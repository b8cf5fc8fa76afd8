/**
 * The risk engine's assessment of one proposed movement, inside the money door before anything is
 * signed or queued. Gathers the facts (the user's tier and history, whether the recipient is new or
 * on the platform, the session's and device's age, screening of every party, the sliding windows in
 * Redis — admitting this movement into them atomically), computes the features, and decides with
 * the rules in force and the learned model (decide-movement.ts).
 *
 * Input: the proposal and its request context. Output: the {@link RiskRecord} and a `release` that
 * takes the movement out of the windows again if it ends up refused or is never recorded.
 */
import { readFileSync } from "node:fs";

import { and, count, desc, eq, inArray, notInArray } from "drizzle-orm";
import { getAddress, type Address } from "viem";

import type { Database } from "../../lib/db/database.ts";
import { parseRiskModel, type RiskModel } from "../../lib/risk-model/logistic-regression.ts";
import type { Principal } from "../auth/principal.ts";
import { apiSessions, apiUsers, moneyMovements, wallets } from "../db/schema.ts";
import { knownDevices } from "../db/security-schema.ts";
import { decideMovement, type RiskRecord } from "./decide-movement.ts";
import { movementFeatures } from "./movement-features.ts";
import { currentRuleSet, loadFileRuleSet } from "./rule-sets.ts";
import type { RuleSet } from "./rules.ts";
import { screenParties, type ScreeningHit } from "./screening/screen-addresses.ts";
import { admitToWindows, releaseFromWindows } from "./velocity-windows.ts";
import type { Redis } from "ioredis";

/** Statuses of movements that never moved and never will: they are no history, no recipient, no reservation. */
export const refusedStatuses = ["denied", "declined", "rejected"] as const;

const HISTORY_KEPT = 50;

let model: RiskModel | undefined;
let fileRules: RuleSet | undefined;
/** The shipped model (models/risk-lr-v1.json), parsed once per process. */
export function shippedRiskModel(): RiskModel {
  model ??= parseRiskModel(JSON.parse(readFileSync(new URL("../../models/risk-lr-v1.json", import.meta.url), "utf8")));
  return model;
}
/** The built-in rules (api/risk/default-rules.json), parsed once per process. */
export function fileRuleSet(): RuleSet {
  fileRules ??= loadFileRuleSet();
  return fileRules;
}

export type RiskAssessment = {
  record: RiskRecord;
  ruleSet: RuleSet;
  screening: ScreeningHit | undefined;
  recipientOnPlatform: boolean;
  /** Takes this movement out of the user's windows (it was refused, or failed before being recorded). */
  release: () => Promise<void>;
};

export type AssessMovementInput = {
  movementId: string;
  userId: string;
  kind: string;
  from: Address;
  to: Address;
  amount: bigint;
  payees: readonly Address[];
  principal: Principal | undefined;
};

/**
 * Assesses a movement.
 * @returns the decision record and the context the door needs (see {@link RiskAssessment})
 */
export async function assessMovement(
  deps: { database: Database; redis: Redis; redisPrefix: string },
  m: AssessMovementInput,
): Promise<RiskAssessment> {
  const db = deps.database.db;
  const { version, ruleSet } = await currentRuleSet(deps.database, fileRuleSet());
  const variants = (a: Address) => [getAddress(a), a.toLowerCase()];
  const [[user], ownWallets, recipientWallets, history, [historyCount], [paidBefore], session] = await Promise.all([
    db.select({ tier: apiUsers.tier }).from(apiUsers).where(eq(apiUsers.id, m.userId)),
    db
      .select({ id: wallets.id })
      .from(wallets)
      .where(and(eq(wallets.userId, m.userId), inArray(wallets.address, variants(m.from)))),
    db
      .select({ id: wallets.id })
      .from(wallets)
      .where(inArray(wallets.address, variants(m.to))),
    db
      .select({ amount: moneyMovements.amount })
      .from(moneyMovements)
      .where(and(eq(moneyMovements.userId, m.userId), notInArray(moneyMovements.status, [...refusedStatuses])))
      .orderBy(desc(moneyMovements.seq))
      .limit(HISTORY_KEPT),
    db
      .select({ n: count() })
      .from(moneyMovements)
      .where(and(eq(moneyMovements.userId, m.userId), notInArray(moneyMovements.status, [...refusedStatuses]))),
    db
      .select({ id: moneyMovements.id })
      .from(moneyMovements)
      .where(
        and(
          eq(moneyMovements.userId, m.userId),
          inArray(moneyMovements.to, variants(m.to)),
          notInArray(moneyMovements.status, [...refusedStatuses]),
        ),
      )
      .limit(1),
    m.principal?.via === "session"
      ? db
          .select({ createdAt: apiSessions.createdAt, deviceHash: apiSessions.deviceHash })
          .from(apiSessions)
          .where(eq(apiSessions.id, m.principal.credentialId))
          .then((rows) => rows[0])
      : Promise.resolve(undefined),
  ]);
  const screening = await screenParties(deps.database, [
    { party: "sender", address: m.from },
    { party: "recipient", address: m.to },
    ...m.payees.map((address, index) => ({ party: `payee ${index}`, address })),
  ]);
  let deviceFirstSeen: Date | undefined;
  if (session?.deviceHash) {
    const [device] = await db
      .select({ firstSeenAt: knownDevices.firstSeenAt })
      .from(knownDevices)
      .where(and(eq(knownDevices.userId, m.userId), eq(knownDevices.deviceHash, session.deviceHash)));
    // A session's device not yet recorded as known is as new as it gets.
    deviceFirstSeen = device?.firstSeenAt ?? new Date();
  }

  const longest = Math.max(1, ...ruleSet.windows.map((w) => w.seconds));
  const admitted = { id: m.movementId, amount: m.amount, to: m.to };
  const { now, inside } = await admitToWindows(deps.redis, deps.redisPrefix, m.userId, longest, admitted);
  const release = () => releaseFromWindows(deps.redis, deps.redisPrefix, m.userId, admitted);
  try {
    const features = movementFeatures({
      amount: m.amount,
      kind: m.kind,
      tier: user?.tier ?? "basic",
      to: m.to,
      senderOwn: ownWallets.length > 0,
      recipientFirstTime: paidBefore === undefined,
      recipientOnPlatform: recipientWallets.length > 0,
      history: history.map((h) => BigInt(h.amount)),
      historyCount: historyCount?.n ?? 0,
      sessionAgeSeconds: session ? Math.max(0, Math.floor((now - session.createdAt.getTime()) / 1000)) : null,
      deviceAgeSeconds: deviceFirstSeen ? Math.max(0, Math.floor((now - deviceFirstSeen.getTime()) / 1000)) : null,
      screeningHit: screening !== undefined,
      now,
      inside,
      windows: ruleSet.windows,
    });
    const record = decideMovement({
      ruleSet,
      rulesVersion: version,
      model: shippedRiskModel(),
      tier: user?.tier ?? "basic",
      kind: m.kind,
      features,
    });
    if (screening) {
      // The reason names the list and the entry (docs/design/auth.md).
      for (const reason of record.reasons) {
        if (reason.code === "SCREENING_MATCH") reason.details = { ...reason.details, ...screening };
      }
    }
    return { record, ruleSet, screening, recipientOnPlatform: recipientWallets.length > 0, release };
  } catch (error) {
    await release();
    throw error;
  }
}
