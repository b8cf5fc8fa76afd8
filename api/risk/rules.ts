/**
 * The risk rules as data, and their evaluation — pure. A rule set names the sliding windows the
 * engine keeps, rules common to every tier, and each verification tier's rules. A rule is a
 * condition over the movement's features (the catalogue in {@link RiskFeatures}) and an action;
 * the decision is the strongest action among the rules that hold (deny > review > step_up > allow),
 * with every holding rule's reason code. Amounts compare as bigint (decimal strings in the data).
 *
 * @example a rule
 * { "code": "AMOUNT_ABOVE_STEP_UP", "action": "step_up", "when": { "amount": { "gt": "1000000000" } } }
 */
import { z } from "zod";

import type { FeatureValue, RiskFeatures } from "../../lib/risk-model/features.ts";

export type { FeatureValue, RiskFeatures };

export const riskDecisions = ["allow", "step_up", "review", "deny"] as const;
export type RiskDecision = (typeof riskDecisions)[number];
const strength: Record<RiskDecision, number> = { allow: 0, step_up: 1, review: 2, deny: 3 };

/** The stronger of two decisions. */
export const strongerDecision = (a: RiskDecision, b: RiskDecision): RiskDecision => (strength[b] > strength[a] ? b : a);

const comparable = z.union([z.string().max(100), z.number(), z.boolean(), z.null()]);
const comparison = z
  .object({
    gt: comparable.optional(),
    gte: comparable.optional(),
    lt: comparable.optional(),
    lte: comparable.optional(),
    eq: comparable.optional(),
    ne: comparable.optional(),
    in: z.array(comparable).max(100).optional(),
  })
  .strict();

export type Condition =
  { all: Condition[] } | { any: Condition[] } | { not: Condition } | Record<string, z.infer<typeof comparison>>;

const combinators = new Set(["all", "any", "not"]);
const featureName = z
  .string()
  .regex(/^[a-zA-Z][a-zA-Z0-9_.]{0,63}$/, "must be a feature name such as amount or window.1h.count")
  .refine((name) => !combinators.has(name), "all, any and not combine conditions; they name no feature");

export const conditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    z.object({ all: z.array(conditionSchema).min(1).max(50) }).strict(),
    z.object({ any: z.array(conditionSchema).min(1).max(50) }).strict(),
    z.object({ not: conditionSchema }).strict(),
    z
      .record(featureName, comparison)
      .refine((value) => Object.keys(value).length === 1, "a comparison names exactly one feature"),
  ]),
) as z.ZodType<Condition>;

export const movementKinds = [
  "transfer",
  "payment.authorize",
  "payment.charge",
  "payment.capture",
  "payment.void",
  "payment.refund",
  "payment.reclaim",
  "payout",
] as const;

export const ruleSchema = z
  .object({
    code: z.string().regex(/^[A-Z][A-Z0-9_]{2,63}$/, "must be an UPPER_SNAKE reason code"),
    action: z.enum(["step_up", "review", "deny"]),
    when: conditionSchema,
    /** Movement kinds the rule applies to (all when absent). */
    kinds: z.array(z.enum(movementKinds)).min(1).optional(),
    message: z.string().max(300).optional(),
  })
  .strict();
export type RiskRule = z.infer<typeof ruleSchema>;

export const ruleSetSchema = z
  .object({
    /** Sliding windows kept per user in Redis: count and amount of the movements accepted in each. */
    windows: z
      .array(
        z
          .object({
            name: z.string().regex(/^[a-z0-9]{1,16}$/),
            seconds: z
              .number()
              .int()
              .min(1)
              .max(90 * 86_400),
          })
          .strict(),
      )
      .max(10),
    /**
     * Travel rule: a transfer above `threshold` (base units) to an address that is no wallet of this
     * platform needs originator and beneficiary data (api/risk/travel-rule.ts). Absent: never asked.
     */
    travelRule: z
      .object({ threshold: z.string().regex(/^\d{1,78}$/, "must be a decimal amount in base units") })
      .strict()
      .optional(),
    /** Rules of every tier (screening, say), evaluated before the tier's own. */
    common: z.array(ruleSchema).max(100),
    tiers: z.record(
      z.string().regex(/^[a-z][a-z0-9_]{0,31}$/),
      z.object({ rules: z.array(ruleSchema).max(100) }).strict(),
    ),
  })
  .strict()
  .refine((set) => "basic" in set.tiers, "a rule set must define the tier basic (every new user's)");
export type RuleSet = z.infer<typeof ruleSetSchema>;

/** One reason a decision was taken, as recorded with the movement and returned to the caller. */
export type RiskReason = {
  code: string;
  action: Exclude<RiskDecision, "allow">;
  message: string;
  details?: Record<string, unknown> | undefined;
};

const toBigint = (value: FeatureValue | undefined): bigint | undefined => {
  if (typeof value === "bigint") return value;
  if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
  if (typeof value === "string" && /^-?\d+$/.test(value)) return BigInt(value);
  return undefined;
};

/** Compares a feature with a rule's value: as bigint when both are whole, else as numbers, else by equality. */
function compare(actual: FeatureValue | undefined, op: string, expected: unknown): boolean {
  if (actual === undefined || actual === null)
    return op === "eq" ? expected === null : op === "ne" && expected !== null;
  if (op === "in") return (expected as unknown[]).some((item) => compare(actual, "eq", item));
  const a = toBigint(actual);
  const b = toBigint(expected as FeatureValue);
  let order: number | undefined;
  if (a !== undefined && b !== undefined) order = a < b ? -1 : a > b ? 1 : 0;
  else if (typeof actual === "number" && (typeof expected === "number" || typeof expected === "string")) {
    const e = Number(expected);
    order = actual < e ? -1 : actual > e ? 1 : 0;
  } else if (typeof actual === "bigint" && typeof expected === "number") {
    const e = Number(actual);
    order = e < expected ? -1 : e > expected ? 1 : 0;
  }
  switch (op) {
    case "eq":
      return order !== undefined ? order === 0 : actual === expected;
    case "ne":
      return order !== undefined ? order !== 0 : actual !== expected;
    case "gt":
      return order !== undefined && order > 0;
    case "gte":
      return order !== undefined && order >= 0;
    case "lt":
      return order !== undefined && order < 0;
    case "lte":
      return order !== undefined && order <= 0;
    default:
      return false;
  }
}

/** Whether `condition` holds for `features`. Unknown features are null: only `eq: null` holds for them. */
export function conditionHolds(condition: Condition, features: RiskFeatures): boolean {
  const [key, value] = Object.entries(condition)[0] as [string, unknown];
  if (key === "all") return (value as Condition[]).every((c) => conditionHolds(c, features));
  if (key === "any") return (value as Condition[]).some((c) => conditionHolds(c, features));
  if (key === "not") return !conditionHolds(value as Condition, features);
  return Object.entries(value as Record<string, unknown>).every(([op, expected]) =>
    compare(features[key], op, expected),
  );
}

/** The features a condition names (for the reason's details). */
function namedFeatures(condition: Condition): string[] {
  const [key, value] = Object.entries(condition)[0] as [string, unknown];
  if (key === "all" || key === "any") return (value as Condition[]).flatMap(namedFeatures);
  if (key === "not") return namedFeatures(value as Condition);
  return [key];
}

const jsonValue = (value: FeatureValue | undefined) => (typeof value === "bigint" ? value.toString() : (value ?? null));

/**
 * Evaluates a rule set for one movement.
 * @param ruleSet - the rules in force
 * @param tier - the user's verification tier (an unknown tier falls back to `basic`)
 * @param kind - the movement kind (rules with `kinds` apply to those only)
 * @param features - the movement's features
 * @returns the decision and the reasons of every rule that held, strongest first
 */
export function evaluateRules(
  ruleSet: RuleSet,
  tier: string,
  kind: string,
  features: RiskFeatures,
): { decision: RiskDecision; reasons: RiskReason[] } {
  const rules = [...ruleSet.common, ...(ruleSet.tiers[tier] ?? ruleSet.tiers.basic!).rules];
  const reasons: RiskReason[] = [];
  let decision: RiskDecision = "allow";
  for (const rule of rules) {
    if (rule.kinds && !rule.kinds.includes(kind as (typeof movementKinds)[number])) continue;
    if (!conditionHolds(rule.when, features)) continue;
    decision = strongerDecision(decision, rule.action);
    const observed = Object.fromEntries(namedFeatures(rule.when).map((name) => [name, jsonValue(features[name])]));
    reasons.push({ code: rule.code, action: rule.action, message: rule.message ?? rule.code, details: { observed } });
  }
  reasons.sort((a, b) => strength[b.action] - strength[a.action]);
  return { decision, reasons };
}
