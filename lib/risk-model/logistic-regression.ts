/**
 * The learned risk score: a logistic regression over standardised inputs, trained by
 * scripts/risk/train-model.ts and shipped as a versioned JSON file (models/). Scoring is a dot
 * product and a sigmoid — well under a microsecond — and explains itself: each input's contribution
 * is its weight times its standardised value, so the factors of a score add up to its log-odds.
 */
import { z } from "zod";

import { modelInputNames, modelInputs, type RiskFeatures } from "./features.ts";

export const riskModelSchema = z.object({
  id: z.string(),
  version: z.number().int().positive(),
  kind: z.literal("logistic_regression"),
  features: z.array(z.object({ name: z.string(), mean: z.number(), std: z.number().positive() })),
  weights: z.array(z.number()),
  bias: z.number(),
  training: z.record(z.string(), z.unknown()),
});
export type RiskModel = z.infer<typeof riskModelSchema>;

/** One input's part in a score. */
export type ScoreFactor = { feature: string; value: number; contribution: number };

/**
 * Checks a model file against the inputs this code computes (same names, same order).
 * @throws Error naming the mismatch
 */
export function parseRiskModel(json: unknown): RiskModel {
  const model = riskModelSchema.parse(json);
  const names = model.features.map((f) => f.name);
  if (names.join(",") !== modelInputNames.join(",") || model.weights.length !== names.length) {
    throw new Error(
      `risk model ${model.id} expects inputs ${names.join(",")}; this code computes ${modelInputNames.join(",")}`,
    );
  }
  return model;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Standardises raw inputs with the model's means and deviations. */
function standardise(model: RiskModel, raw: readonly number[]): number[] {
  return raw.map((value, i) => (value - model.features[i]!.mean) / model.features[i]!.std);
}

/**
 * Scores raw model inputs.
 * @returns the probability of fraud (0..1) and every input's contribution to the log-odds, largest first
 */
export function scoreInputs(model: RiskModel, raw: readonly number[]): { score: number; factors: ScoreFactor[] } {
  const z = standardise(model, raw);
  let logit = model.bias;
  const factors: ScoreFactor[] = [];
  for (let i = 0; i < z.length; i += 1) {
    const contribution = model.weights[i]! * z[i]!;
    logit += contribution;
    factors.push({ feature: model.features[i]!.name, value: raw[i]!, contribution });
  }
  factors.sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution));
  return { score: sigmoid(logit), factors };
}

/** Scores a movement's features (see {@link modelInputs}). */
export function scoreMovement(model: RiskModel, features: RiskFeatures) {
  return scoreInputs(model, modelInputs(features));
}

/**
 * Trains a logistic regression by full-batch gradient descent with L2 regularisation, on inputs
 * standardised by their training means and deviations. Deterministic for the same data.
 * @param samples - raw inputs and labels (1 = fraud)
 */
export function trainLogisticRegression(
  samples: readonly { inputs: readonly number[]; label: 0 | 1 }[],
  options: { epochs?: number; learningRate?: number; l2?: number; positiveWeight?: number } = {},
): { features: RiskModel["features"]; weights: number[]; bias: number } {
  const { epochs = 400, learningRate = 0.5, l2 = 1e-3, positiveWeight = 1 } = options;
  const width = modelInputNames.length;
  const mean = new Array<number>(width).fill(0);
  const variance = new Array<number>(width).fill(0);
  for (const { inputs } of samples) for (let i = 0; i < width; i += 1) mean[i]! += inputs[i]! / samples.length;
  for (const { inputs } of samples)
    for (let i = 0; i < width; i += 1) variance[i]! += (inputs[i]! - mean[i]!) ** 2 / samples.length;
  const std = variance.map((v) => Math.sqrt(v) || 1);
  const rows = samples.map(({ inputs, label }) => ({ z: inputs.map((v, i) => (v - mean[i]!) / std[i]!), label }));
  const weights = new Array<number>(width).fill(0);
  let bias = 0;
  const totalWeight = rows.reduce((sum, row) => sum + (row.label ? positiveWeight : 1), 0);
  for (let epoch = 0; epoch < epochs; epoch += 1) {
    const gradient = new Array<number>(width).fill(0);
    let gradientBias = 0;
    for (const row of rows) {
      let logit = bias;
      for (let i = 0; i < width; i += 1) logit += weights[i]! * row.z[i]!;
      const error = (sigmoid(logit) - row.label) * (row.label ? positiveWeight : 1);
      for (let i = 0; i < width; i += 1) gradient[i]! += error * row.z[i]!;
      gradientBias += error;
    }
    for (let i = 0; i < width; i += 1) weights[i]! -= learningRate * (gradient[i]! / totalWeight + l2 * weights[i]!);
    bias -= learningRate * (gradientBias / totalWeight);
  }
  return {
    features: modelInputNames.map((name, i) => ({ name, mean: mean[i]!, std: std[i]! })),
    weights,
    bias,
  };
}
