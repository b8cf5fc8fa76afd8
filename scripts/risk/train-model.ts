/**
 * Trains the risk model and writes it as a versioned file: `npm run risk:train` (writes
 * models/risk-lr-v<version>.json). A logistic regression (lib/risk-model/logistic-regression.ts) on
 * the synthetic population of scripts/risk/synthetic-population.ts — training seed 1, validation
 * seed 2; bench/risk/ measures on seed 3, which training never sees.
 *
 * Usage: tsx scripts/risk/train-model.ts [--version 1] [--users 4000]
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { modelInputs } from "../../lib/risk-model/features.ts";
import { parseRiskModel, scoreInputs, trainLogisticRegression } from "../../lib/risk-model/logistic-regression.ts";
import { syntheticPopulation } from "./synthetic-population.ts";

const argument = (name: string, otherwise: number) => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : otherwise;
};
const version = argument("version", 1);
const users = argument("users", 4_000);

const TRAINING_SEED = 1;
const VALIDATION_SEED = 2;
const training = syntheticPopulation(TRAINING_SEED, users);
const samples = training.map((m) => ({ inputs: modelInputs(m.features), label: m.label }));
const positives = samples.filter((s) => s.label === 1).length;
// Fraud is rare: weigh it so the model does not learn "never".
const trained = trainLogisticRegression(samples, {
  epochs: 600,
  learningRate: 0.5,
  l2: 1e-3,
  positiveWeight: (samples.length - positives) / positives / 4,
});

const validation = syntheticPopulation(VALIDATION_SEED, Math.round(users / 4));
const draft = parseRiskModel({
  id: `risk-lr-v${version}`,
  version,
  kind: "logistic_regression",
  ...trained,
  training: {},
});
let tp = 0;
let fp = 0;
let fn = 0;
let tn = 0;
for (const movement of validation) {
  const flagged = scoreInputs(draft, modelInputs(movement.features)).score > 0.6;
  if (flagged && movement.label) tp += 1;
  else if (flagged) fp += 1;
  else if (movement.label) fn += 1;
  else tn += 1;
}
const model = {
  ...draft,
  training: {
    script: "scripts/risk/train-model.ts",
    trainedAt: new Date().toISOString(),
    trainingSeed: TRAINING_SEED,
    validationSeed: VALIDATION_SEED,
    samples: samples.length,
    positives,
    validation: {
      threshold: 0.6,
      precision: tp / Math.max(1, tp + fp),
      recall: tp / Math.max(1, tp + fn),
      falsePositiveRate: fp / Math.max(1, fp + tn),
    },
  },
};
const path = fileURLToPath(new URL(`../../models/risk-lr-v${version}.json`, import.meta.url));
writeFileSync(path, `${JSON.stringify(model, null, 2)}\n`);
console.log(`wrote ${path}`);
console.log(JSON.stringify(model.training.validation));
console.log(model.features.map((f, i) => `${f.name}: ${model.weights[i]!.toFixed(3)}`).join("\n"));
