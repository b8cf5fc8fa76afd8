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

import { and, eq, sql } from "drizzle-orm";
import { getAddress, type Address } from "viem";

import type { Database } from "../../lib/db/database.ts";
import { parseRiskModel, type RiskModel } from "../../lib/risk-model/logistic-regression.ts";
import type { Principal } from "../auth/principal.ts";
import { apiSessions, apiUsers, moneyMovements, wallets } from "../db/schema.ts";
import { knownDevices, riskRuleSets, screeningEntries, userMovementCounts } from "../db/security-schema.ts";
import { decideMovement, type RiskRecord } from "./decide-movement.ts";
import { movementFeatures } from "./movement-features.ts";
import { loadFileRuleSet, ruleSetOfVersion } from "./rule-sets.ts";
import type { RuleSet } from "./rules.ts";
import type { ScreeningHit } from "./screening/screen-addresses.ts";
import { admitToWindows, releaseFromWindows } from "./velocity-windows.ts";
import type { Redis } from "ioredis";

/**
 * Statuses of movements that never moved and never will: they are no history, no recipient, no
 * reservation. Migration 0009 names the same three (movement_is_history), for the triggers
 * counting a user's history.
 */
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
  /** The user's verification tier, when the caller has read it already (the door has). */
  tier?: string | undefined;
};

type RiskFacts = Record<string, unknown> & {
  tier: string | null;
  sender_own: boolean;
  recipient_on_platform: boolean;
  history: unknown;
  history_count: string | number | null;
  paid_before: boolean;
  rules_version: number | null;
  screening: unknown;
};

/**
 * The facts assessMovement reads, as one SELECT of subqueries (the same conditions the separate
 * queries had: refused movements are no history and no recipient; screening is the first hit on
 * any party, addresses lower-case as the lists keep them).
 *
 * Whether the user paid the recipient before is one EXISTS per spelling of its address, each an
 * equality on both columns of (user_id, to_address). Asked as `to_address IN (…)`, a generic plan —
 * which PostgreSQL caches for a named statement — looked the user up by user_id alone and filtered
 * on the address: for a recipient never paid, that read every movement of the user's history
 * (test/api/movements/statement-plans.test.ts).
 */
export function riskFactsQuery(
  m: AssessMovementInput,
  variants: (a: Address) => string[],
  parties: readonly { address: string }[],
) {
  const list = (values: readonly string[]) =>
    sql.join(
      values.map((v) => sql`${v}`),
      sql`, `,
    );
  const refused = list(refusedStatuses);
  const screened = list([...new Set(parties.map((p) => p.address.toLowerCase()))]);
  return sql`SELECT
    (SELECT ${apiUsers.tier} FROM ${apiUsers} WHERE ${apiUsers.id} = ${m.userId}) AS tier,
    EXISTS (SELECT 1 FROM ${wallets} WHERE ${wallets.userId} = ${m.userId}
      AND ${wallets.address} IN (${list(variants(m.from))})) AS sender_own,
    EXISTS (SELECT 1 FROM ${wallets} WHERE ${wallets.address} IN (${list(variants(m.to))})) AS recipient_on_platform,
    (SELECT json_agg(h.amount::text ORDER BY h.seq DESC) FROM (
      SELECT ${moneyMovements.amount} AS amount, ${moneyMovements.seq} AS seq FROM ${moneyMovements}
      WHERE ${moneyMovements.userId} = ${m.userId} AND ${moneyMovements.status} NOT IN (${refused})
      ORDER BY ${moneyMovements.seq} DESC LIMIT ${HISTORY_KEPT}) h) AS history,
    (SELECT ${userMovementCounts.movements} FROM ${userMovementCounts}
      WHERE ${userMovementCounts.userId} = ${m.userId}) AS history_count,
    (${sql.join(
      variants(m.to).map(
        (to) => sql`EXISTS (SELECT 1 FROM ${moneyMovements} WHERE ${moneyMovements.userId} = ${m.userId}
          AND ${moneyMovements.to} = ${to} AND ${moneyMovements.status} NOT IN (${refused}))`,
      ),
      sql` OR `,
    )}) AS paid_before,
    (SELECT max(${riskRuleSets.version}) FROM ${riskRuleSets}) AS rules_version,
    (SELECT row_to_json(s) FROM (SELECT list, address, entry_uid, entry_name FROM ${screeningEntries}
      WHERE ${screeningEntries.address} IN (${screened}) LIMIT 1) s) AS screening`;
}

/** JSON columns arrive parsed from node-postgres, and as text from some drivers. */
function parseJson<T>(value: unknown): T | undefined {
  if (value === null || value === undefined) return undefined;
  return (typeof value === "string" ? JSON.parse(value) : value) as T;
}

/**
 * Assesses a movement.
 * @returns the decision record and the context the door needs (see {@link RiskAssessment})
 */
export async function assessMovement(
  deps: { database: Database; redis: Redis; redisPrefix: string },
  m: AssessMovementInput,
): Promise<RiskAssessment> {
  const db = deps.database.db;
  const variants = (a: Address) => [getAddress(a), a.toLowerCase()];
  const parties = [
    { party: "sender", address: m.from },
    { party: "recipient", address: m.to },
    ...m.payees.map((address, index) => ({ party: `payee ${index}`, address })),
  ];
  // Every fact of the movement's own history in one statement (one round trip, not eight).
  const [[facts], session] = await Promise.all([
    deps.database.query<RiskFacts>(riskFactsQuery(m, variants, parties)),
    m.principal?.via === "session"
      ? db
          .select({ createdAt: apiSessions.createdAt, deviceHash: apiSessions.deviceHash })
          .from(apiSessions)
          .where(eq(apiSessions.id, m.principal.credentialId))
          .then((rows) => rows[0])
      : Promise.resolve(undefined),
  ]);
  const { version, ruleSet } = await ruleSetOfVersion(deps.database, facts!.rules_version, fileRuleSet());
  const user = { tier: m.tier ?? facts!.tier ?? undefined };
  const ownWallets = facts!.sender_own ? [true] : [];
  const recipientWallets = facts!.recipient_on_platform ? [true] : [];
  const history = (parseJson<string[]>(facts!.history) ?? []).map((amount) => ({ amount }));
  // No row yet: the user has no movement that counts.
  const historyCount = { n: Number(facts!.history_count ?? 0) };
  const paidBefore = facts!.paid_before ? true : undefined;
  const hit = parseJson<{ list: string; address: string; entry_uid: string | null; entry_name: string | null }>(
    facts!.screening,
  );
  const screening: ScreeningHit | undefined = hit
    ? {
        list: hit.list,
        address: hit.address,
        entryUid: hit.entry_uid,
        entryName: hit.entry_name,
        party: parties.find((p) => p.address.toLowerCase() === hit.address)!.party,
      }
    : undefined;
  let deviceFirstSeen: Date | undefined;
  if (session?.deviceHash) {
    const [device] = await db
      .select({ firstSeenAt: knownDevices.firstSeenAt })
      .from(knownDevices)
      .where(and(eq(knownDevices.userId, m.userId), eq(knownDevices.deviceHash, session.deviceHash)));
    // A session's device not yet recorded as known is as new as it gets.
    deviceFirstSeen = device?.firstSeenAt ?? new Date();
  }

  const admitted = { id: m.movementId, amount: m.amount, to: m.to };
  const lengths = ruleSet.windows.map((w) => w.seconds);
  const { now, totals } = await admitToWindows(deps.redis, deps.redisPrefix, m.userId, lengths, admitted);
  const release = () => releaseFromWindows(deps.redis, deps.redisPrefix, m.userId, admitted);
  try {
    const features = movementFeatures({
      amount: m.amount,
      kind: m.kind,
      tier: user?.tier ?? "basic",
      senderOwn: ownWallets.length > 0,
      recipientFirstTime: paidBefore === undefined,
      recipientOnPlatform: recipientWallets.length > 0,
      history: history.map((h) => BigInt(h.amount)),
      historyCount: historyCount?.n ?? 0,
      sessionAgeSeconds: session ? Math.max(0, Math.floor((now - session.createdAt.getTime()) / 1000)) : null,
      deviceAgeSeconds: deviceFirstSeen ? Math.max(0, Math.floor((now - deviceFirstSeen.getTime()) / 1000)) : null,
      screeningHit: screening !== undefined,
      windows: ruleSet.windows,
      windowTotals: totals,
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
