/**
 * The risk engine's decision for one movement — pure: the learned score and its factors from the
 * model, then the rules over the features with the score among them. The money door's risk policy
 * (api/risk/risk-policy.ts) computes the features and calls this; bench/risk/ calls it on a
 * synthetic population.
 */
import type { RiskModel, ScoreFactor } from "../../lib/risk-model/logistic-regression.ts";
import { scoreMovement } from "../../lib/risk-model/logistic-regression.ts";
import { evaluateRules, type RiskDecision, type RiskFeatures, type RiskReason, type RuleSet } from "./rules.ts";

/** What is recorded with the movement (money_movements.risk) and returned in its view. */
export type RiskRecord = {
  decision: RiskDecision;
  reasons: RiskReason[];
  score: number | null;
  model: string | null;
  /** The model's largest contributions to the score's log-odds. */
  factors: ScoreFactor[];
  rulesVersion: number;
  stepUp: { challengeId: string; factor: string; approvedAt: string } | null;
};

/** How many factors a decision keeps (the largest contributions). */
const FACTORS_KEPT = 5;

/**
 * Decides a movement.
 * @param p.ruleSet - the rules in force, and their version
 * @param p.model - the risk model, or undefined to decide by the rules alone (no `score` feature)
 * @param p.tier - the user's tier; p.kind - the movement kind
 * @param p.features - the movement's features (without `score`)
 */
export function decideMovement(p: {
  ruleSet: RuleSet;
  rulesVersion: number;
  model: RiskModel | undefined;
  tier: string;
  kind: string;
  features: RiskFeatures;
}): RiskRecord {
  const scored = p.model ? scoreMovement(p.model, p.features) : undefined;
  const features = scored ? { ...p.features, score: scored.score } : p.features;
  const { decision, reasons } = evaluateRules(p.ruleSet, p.tier, p.kind, features);
  return {
    decision,
    reasons,
    score: scored ? Math.round(scored.score * 1e4) / 1e4 : null,
    model: p.model?.id ?? null,
    factors: (scored?.factors ?? []).slice(0, FACTORS_KEPT).map((f) => ({
      feature: f.feature,
      value: Math.round(f.value * 1e4) / 1e4,
      contribution: Math.round(f.contribution * 1e4) / 1e4,
    })),
    rulesVersion: p.rulesVersion,
    stepUp: null,
  };
}
