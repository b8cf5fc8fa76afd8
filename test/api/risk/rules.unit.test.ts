import { expect } from "chai";

import { decideMovement } from "../../../api/risk/decide-movement.ts";
import { loadFileRuleSet, parseRuleSet } from "../../../api/risk/rule-sets.ts";
import { conditionHolds, evaluateRules, type RiskFeatures, type RuleSet } from "../../../api/risk/rules.ts";

const TOKEN = 1_000_000n;
/** A quiet movement: known recipient, old device and session, a habit of similar amounts. */
const quiet = (overrides: RiskFeatures = {}): RiskFeatures => ({
  amount: 20n * TOKEN,
  kind: "transfer",
  "sender.own": true,
  "recipient.firstTime": false,
  "recipient.onPlatform": true,
  "history.count": 20,
  "amount.ratioToMedian": 1,
  "session.ageSeconds": 86_400,
  "device.ageSeconds": 30 * 86_400,
  "screening.hit": false,
  "window.2m.count": 1,
  "window.1h.count": 1,
  "window.1h.amount": 20n * TOKEN,
  "window.24h.amount": 20n * TOKEN,
  "window.30d.amount": 200n * TOKEN,
  ...overrides,
});

describe("risk rules (api/risk/rules.ts)", () => {
  const rules = loadFileRuleSet();
  const decide = (features: RiskFeatures, tier = "basic", kind = "transfer") =>
    evaluateRules(rules, tier, kind, features);
  const codes = (features: RiskFeatures, tier = "basic") => decide(features, tier).reasons.map((r) => r.code);

  it("allows a quiet movement with no reason", () => {
    expect(decide(quiet())).to.deep.equal({ decision: "allow", reasons: [] });
  });

  const alone: [string, RiskFeatures, string][] = [
    ["SCREENING_MATCH", { "screening.hit": true }, "deny"],
    ["LIMIT_PER_TRANSACTION", { amount: 5_001n * TOKEN, "recipient.firstTime": false }, "deny"],
    ["LIMIT_DAILY", { "window.24h.amount": 10_000n * TOKEN + 1n }, "deny"],
    ["LIMIT_MONTHLY", { "window.30d.amount": 50_000n * TOKEN + 1n }, "deny"],
    ["VELOCITY_COUNT", { "window.1h.count": 201 }, "review"],
    ["VELOCITY_AMOUNT", { "window.1h.amount": 4_000n * TOKEN + 1n }, "review"],
    ["BURST", { "window.2m.count": 6, amount: 50n * TOKEN }, "step_up"],
    ["FIRST_TIME_RECIPIENT", { "recipient.firstTime": true, amount: 100n * TOKEN }, "step_up"],
    ["UNUSUAL_AMOUNT", { "amount.ratioToMedian": 11, amount: 100n * TOKEN }, "step_up"],
    ["NEW_DEVICE", { "device.ageSeconds": 60, amount: 250n * TOKEN }, "step_up"],
    ["NEW_SESSION", { "session.ageSeconds": 60, amount: 501n * TOKEN }, "step_up"],
    ["RISK_SCORE_ELEVATED", { score: 0.7 }, "step_up"],
    ["RISK_SCORE_HIGH", { score: 0.9 }, "review"],
  ];
  for (const [code, overrides, action] of alone) {
    it(`holds ${code} alone (${action}) and nothing else fires`, () => {
      const result = decide(quiet(overrides));
      // A higher threshold implies the lower one of the same measure.
      const implied: Record<string, string[]> = {
        RISK_SCORE_HIGH: ["RISK_SCORE_HIGH", "RISK_SCORE_ELEVATED"],
        LIMIT_PER_TRANSACTION: ["LIMIT_PER_TRANSACTION", "AMOUNT_ABOVE_STEP_UP"],
      };
      const expected = implied[code] ?? [code];
      expect(result.reasons.map((r) => r.code)).to.deep.equal(expected);
      expect(result.decision).to.equal(action);
    });
  }

  it("stays quiet just at each threshold (limits are inclusive of the amount itself)", () => {
    expect(codes(quiet({ amount: 1_000n * TOKEN, "amount.ratioToMedian": 1 }))).to.deep.equal([]);
    expect(codes(quiet({ "window.24h.amount": 10_000n * TOKEN }))).to.deep.equal([]);
    expect(codes(quiet({ "recipient.firstTime": true, amount: 100n * TOKEN - 1n }))).to.deep.equal([]);
  });

  it("combines rules: the strongest action wins and every reason is kept, strongest first", () => {
    const result = decide(
      quiet({
        "screening.hit": true,
        "recipient.firstTime": true,
        amount: 2_000n * TOKEN,
        "window.1h.amount": 4_500n * TOKEN,
      }),
    );
    expect(result.decision).to.equal("deny");
    expect(result.reasons.map((r) => r.code)).to.deep.equal([
      "SCREENING_MATCH",
      "VELOCITY_AMOUNT",
      "AMOUNT_ABOVE_STEP_UP",
      "FIRST_TIME_RECIPIENT",
    ]);
    expect(result.reasons[3]!.details).to.deep.equal({
      observed: { "sender.own": true, "recipient.firstTime": true, amount: "2000000000" },
    });
  });

  it("applies the tier's own rules (verified allows what basic steps up) and falls back to basic for an unknown tier", () => {
    const large = quiet({ amount: 2_000n * TOKEN });
    expect(decide(large, "basic").decision).to.equal("step_up");
    expect(decide(large, "verified").decision).to.equal("allow");
    expect(decide(large, "no-such-tier").decision).to.equal("step_up");
  });

  it("leaves movements whose sender is not the user's own wallet to screening alone (an x402 collection)", () => {
    expect(decide(quiet({ "sender.own": false, amount: 9_000n * TOKEN })).decision).to.equal("allow");
    expect(decide(quiet({ "sender.own": false, "screening.hit": true })).decision).to.equal("deny");
  });

  it("scopes a rule to its kinds", () => {
    expect(
      evaluateRules(rules, "basic", "payment.charge", quiet({ "recipient.firstTime": true, amount: 200n * TOKEN }))
        .decision,
    ).to.equal("allow");
  });

  it("evaluates all / any / not and every comparison, unknown features as null", () => {
    const f: RiskFeatures = { a: 5n, b: 2.5, c: true, d: null };
    expect(conditionHolds({ all: [{ a: { gte: "5", lt: 6 } }, { b: { gt: 2 } }] }, f)).to.equal(true);
    expect(conditionHolds({ any: [{ a: { eq: "4" } }, { c: { eq: true } }] }, f)).to.equal(true);
    expect(conditionHolds({ not: { c: { eq: true } } }, f)).to.equal(false);
    expect(conditionHolds({ a: { in: ["1", "5"] } }, f)).to.equal(true);
    expect(conditionHolds({ d: { gt: 0 } }, f)).to.equal(false);
    expect(conditionHolds({ missing: { eq: null } }, f)).to.equal(true);
    expect(conditionHolds({ a: { ne: "5" } }, f)).to.equal(false);
  });

  it("refuses a malformed rule set with RISK_RULES_INVALID naming the problem", () => {
    const bad = { ...rules, tiers: { verified: rules.tiers.verified! } } as unknown as RuleSet;
    expect(() => parseRuleSet(bad))
      .to.throw()
      .with.property("code", "RISK_RULES_INVALID");
    expect(() => parseRuleSet({ ...rules, common: [{ code: "lower", action: "deny", when: {} }] }))
      .to.throw()
      .with.property("code", "RISK_RULES_INVALID");
  });

  it("decides with the model's score among the features and reports its factors", () => {
    const record = decideMovement({
      ruleSet: rules,
      rulesVersion: 3,
      model: undefined,
      tier: "basic",
      kind: "transfer",
      features: quiet(),
    });
    expect(record).to.include({ decision: "allow", score: null, model: null, rulesVersion: 3 });
  });
});
