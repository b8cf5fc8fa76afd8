/**
 * How well the risk engine holds fraud: precision, recall and false-positive rate of its holds
 * (review or deny: the movement does not go out on the user's word alone) on a labelled synthetic population it never trained on (seed 3;
 * scripts/risk/synthetic-population.ts), for the default rules with the learned model against a
 * limits-only baseline (the same rule set keeping only the LIMIT_* rules) in the same run; then the
 * model's scoring time. Step-ups (the user confirms with a second factor and the movement goes) are
 * counted apart: friction, not holds. `npm run bench:risk`.
 */
import { readFileSync } from "node:fs";

import { decideMovement } from "../../api/risk/decide-movement.ts";
import { loadFileRuleSet } from "../../api/risk/rule-sets.ts";
import type { RuleSet } from "../../api/risk/rules.ts";
import { parseRiskModel, scoreMovement } from "../../lib/risk-model/logistic-regression.ts";
import { syntheticPopulation, type SyntheticMovement } from "../../scripts/risk/synthetic-population.ts";

const TEST_SEED = 3;
const users = Number(process.env.BENCH_RISK_USERS ?? 2_000);
const model = parseRiskModel(
  JSON.parse(readFileSync(new URL("../../models/risk-lr-v1.json", import.meta.url), "utf8")),
);
const rules = loadFileRuleSet();
const limitsOnly: RuleSet = {
  ...rules,
  common: [],
  tiers: Object.fromEntries(
    Object.entries(rules.tiers).map(([tier, { rules: list }]) => [
      tier,
      { rules: list.filter((r) => r.code.startsWith("LIMIT_")) },
    ]),
  ),
};

const population = syntheticPopulation(TEST_SEED, users);

function measure(name: string, ruleSet: RuleSet, withModel: boolean) {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  let stepUpsNormal = 0;
  let stepUpsFraud = 0;
  const byPattern = new Map<string, { held: number; total: number }>();
  for (const movement of population as SyntheticMovement[]) {
    const { decision } = decideMovement({
      ruleSet,
      rulesVersion: 0,
      model: withModel ? model : undefined,
      tier: movement.tier,
      kind: movement.kind,
      features: movement.features,
    });
    const held = decision === "review" || decision === "deny";
    if (decision === "step_up") {
      if (movement.label) stepUpsFraud += 1;
      else stepUpsNormal += 1;
    }
    if (held && movement.label) tp += 1;
    else if (held) fp += 1;
    else if (movement.label) fn += 1;
    else tn += 1;
    const entry = byPattern.get(movement.pattern) ?? { held: 0, total: 0 };
    entry.total += 1;
    if (held) entry.held += 1;
    byPattern.set(movement.pattern, entry);
  }
  const precision = tp / Math.max(1, tp + fp);
  const recall = tp / Math.max(1, tp + fn);
  const fpr = fp / Math.max(1, fp + tn);
  console.log(
    `${name.padEnd(28)} precision ${(precision * 100).toFixed(1)} %  recall ${(recall * 100).toFixed(1)} %  FPR ${(fpr * 100).toFixed(2)} %  (tp ${tp}, fp ${fp}, fn ${fn}, tn ${tn})`,
  );
  console.log(
    `${"".padEnd(28)} step-ups: ${((stepUpsNormal / Math.max(1, fp + tn)) * 100).toFixed(2)} % of normal movements, ${((stepUpsFraud / Math.max(1, tp + fn)) * 100).toFixed(1)} % of fraudulent ones`,
  );
  console.log(
    `${"".padEnd(28)} held by pattern: ${[...byPattern].map(([p, e]) => `${p} ${e.held}/${e.total}`).join(", ")}`,
  );
}

const fraud = population.filter((m) => m.label === 1).length;
console.log(
  `held-out population: seed ${TEST_SEED}, ${users} users, ${population.length} movements, ${fraud} fraudulent`,
);
measure("limits-only baseline", limitsOnly, false);
measure("rules + learned model", rules, true);

const samples = population.slice(0, 1_000).map((m) => m.features);
const rounds = Number(process.env.BENCH_RISK_ROUNDS ?? 200);
/** Mean ns per call of `work` over every sample, after a warm-up. */
const timePerCall = (work: (features: (typeof samples)[number]) => unknown) => {
  for (let i = 0; i < 10_000; i += 1) work(samples[i % samples.length]!);
  const started = process.hrtime.bigint();
  for (let r = 0; r < rounds; r += 1) for (const features of samples) work(features);
  return Number(process.hrtime.bigint() - started) / (rounds * samples.length);
};
const perScore = timePerCall((features) => scoreMovement(model, features));
// Baseline from the same run: the rules alone (no model) over the same features.
const perRules = timePerCall((features) =>
  decideMovement({ ruleSet: rules, rulesVersion: 0, model: undefined, tier: "basic", kind: "transfer", features }),
);
const perDecision = timePerCall((features) =>
  decideMovement({ ruleSet: rules, rulesVersion: 0, model, tier: "basic", kind: "transfer", features }),
);
console.log(
  `model ${model.id}: ${(perScore / 1000).toFixed(2)} µs per score (features → inputs → score with factors); ` +
    `rules alone ${(perRules / 1000).toFixed(2)} µs; rules + model ${(perDecision / 1000).toFixed(2)} µs ` +
    `(${(perDecision / perRules).toFixed(2)}× the rules alone), ${rounds * samples.length} calls each`,
);
