/**
 * A money movement's risk features — what the rules and the learned model look at — and the
 * numeric inputs the model takes from them. Pure; shared by the API's risk engine, the training
 * script and the benchmark, so all three read a movement the same way.
 */

/** A feature's value: amounts as bigint (base units), counts and ratios as numbers, flags as booleans; null when unknown. */
export type FeatureValue = bigint | number | boolean | string | null;

/**
 * Features by name: `amount`, `kind`, `tier`, `sender.own`, `recipient.firstTime`,
 * `recipient.onPlatform`, `amount.ratioToMedian`, `history.count`, `session.ageSeconds`,
 * `device.ageSeconds`, `score`, `screening.hit`, `amount.justUnderThreshold`, and per window
 * `window.<name>.count`, `window.<name>.amount`, `window.<name>.recipients` (this movement included).
 */
export type RiskFeatures = Record<string, FeatureValue>;

/** Base units per whole token of the platform's stablecoin (6 decimals). */
export const TOKEN_UNIT = 1_000_000n;

/** Whole tokens as a float, for the model's inputs only (never for money). */
const tokens = (value: FeatureValue): number =>
  typeof value === "bigint" ? Number(value / 1_000n) / 1_000 : typeof value === "number" ? value : 0;
const num = (value: FeatureValue | undefined, otherwise = 0): number =>
  typeof value === "number" ? value : typeof value === "bigint" ? Number(value) : otherwise;
const flag = (value: FeatureValue | undefined): number => (value === true ? 1 : 0);

/** The model's inputs, in the order of the model file's `features`. */
export const modelInputNames = [
  "log_amount",
  "log_amount_ratio",
  "recipient_first_time",
  "recipient_off_platform",
  "count_2m",
  "log_count_1h",
  "log_amount_1h",
  "recipients_1h",
  "device_new",
  "session_new",
  "log_history",
  "just_under_threshold",
] as const;
export type ModelInputName = (typeof modelInputNames)[number];

/**
 * The model's numeric inputs from a movement's features. Amounts enter as logarithms of whole
 * tokens; an unknown ratio (no history yet) as 0.
 */
export function modelInputs(features: RiskFeatures): number[] {
  const ratio = features["amount.ratioToMedian"];
  const deviceAge = features["device.ageSeconds"];
  const sessionAge = features["session.ageSeconds"];
  const values: Record<ModelInputName, number> = {
    log_amount: Math.log1p(tokens(features.amount ?? null)),
    log_amount_ratio: typeof ratio === "number" && ratio > 0 ? Math.log(ratio) : 0,
    recipient_first_time: flag(features["recipient.firstTime"]),
    recipient_off_platform: features["recipient.onPlatform"] === false ? 1 : 0,
    count_2m: Math.min(num(features["window.2m.count"]), 20),
    log_count_1h: Math.log1p(num(features["window.1h.count"])),
    log_amount_1h: Math.log1p(tokens(features["window.1h.amount"] ?? null)),
    recipients_1h: Math.min(num(features["window.1h.recipients"]), 50),
    device_new: typeof deviceAge === "number" && deviceAge < 86_400 ? 1 : 0,
    session_new: typeof sessionAge === "number" && sessionAge < 300 ? 1 : 0,
    log_history: Math.log1p(num(features["history.count"])),
    just_under_threshold: flag(features["amount.justUnderThreshold"]),
  };
  return modelInputNames.map((name) => values[name]);
}
