import { readFileSync } from "node:fs";

import { expect } from "chai";

import { decideMovement } from "../../../api/risk/decide-movement.ts";
import { loadFileRuleSet } from "../../../api/risk/rule-sets.ts";
import { modelInputNames, modelInputs, type RiskFeatures } from "../../../lib/risk-model/features.ts";
import {
  parseRiskModel,
  scoreInputs,
  scoreMovement,
  trainLogisticRegression,
} from "../../../lib/risk-model/logistic-regression.ts";

const TOKEN = 1_000_000n;
const shipped = parseRiskModel(
  JSON.parse(readFileSync(new URL("../../../models/risk-lr-v1.json", import.meta.url), "utf8")),
);

describe("the risk model (lib/risk-model, models/risk-lr-v1.json)", () => {
  it("ships version 1 with this code's inputs, and refuses a file whose inputs differ", () => {
    expect(shipped).to.include({ id: "risk-lr-v1", version: 1, kind: "logistic_regression" });
    expect(shipped.features.map((f) => f.name)).to.deep.equal([...modelInputNames]);
    const renamed = { ...shipped, features: shipped.features.map((f, i) => (i === 0 ? { ...f, name: "other" } : f)) };
    expect(() => parseRiskModel(renamed)).to.throw(/expects inputs/);
  });

  it("explains a score: the factors' contributions add up to its log-odds", () => {
    const features: RiskFeatures = {
      amount: 900n * TOKEN,
      "recipient.firstTime": true,
      "device.ageSeconds": 10,
      "window.1h.recipients": 7,
    };
    const { score, factors } = scoreMovement(shipped, features);
    const logit = shipped.bias + factors.reduce((sum, f) => sum + f.contribution, 0);
    // Plain arithmetic, not chai's closeTo: under `hardhat test` the bigint matchers take closeTo over.
    expect(Math.abs(score - 1 / (1 + Math.exp(-logit)))).to.be.lessThan(1e-12);
    expect(factors).to.have.length(modelInputNames.length);
    expect(Math.abs(factors[0]!.contribution)).to.be.at.least(Math.abs(factors.at(-1)!.contribution));
  });

  it("scores an account-takeover burst far above a habitual payment", () => {
    const habitual = scoreMovement(shipped, {
      amount: 30n * TOKEN,
      "recipient.firstTime": false,
      "recipient.onPlatform": true,
      "history.count": 40,
      "amount.ratioToMedian": 1,
      "device.ageSeconds": 90 * 86_400,
      "session.ageSeconds": 3_600,
      "window.2m.count": 1,
      "window.1h.count": 1,
      "window.1h.amount": 30n * TOKEN,
      "window.1h.recipients": 1,
    }).score;
    const takeover = scoreMovement(shipped, {
      amount: 400n * TOKEN,
      "recipient.firstTime": true,
      "recipient.onPlatform": false,
      "history.count": 40,
      "amount.ratioToMedian": 12,
      "device.ageSeconds": 30,
      "session.ageSeconds": 40,
      "window.2m.count": 4,
      "window.1h.count": 4,
      "window.1h.amount": 1_500n * TOKEN,
      "window.1h.recipients": 4,
    }).score;
    expect(habitual).to.be.below(0.1);
    expect(takeover).to.be.above(0.85);
    const decision = decideMovement({
      ruleSet: loadFileRuleSet(),
      rulesVersion: 0,
      model: shipped,
      tier: "basic",
      kind: "transfer",
      features: {
        "sender.own": true,
        amount: 400n * TOKEN,
        "window.1h.recipients": 4,
        "recipient.firstTime": true,
        "device.ageSeconds": 30,
      },
    });
    expect(decision.model).to.equal("risk-lr-v1");
    expect(decision.factors).to.have.length(5);
  });

  it("trains: separable data gets weights of the right sign, deterministically", () => {
    const samples = Array.from({ length: 200 }, (_, i) => {
      const inputs = modelInputs({ "recipient.firstTime": i % 2 === 0, amount: BigInt(10 + (i % 7)) * TOKEN });
      return { inputs, label: (i % 2 === 0 ? 1 : 0) as 0 | 1 };
    });
    const a = trainLogisticRegression(samples, { epochs: 100 });
    const b = trainLogisticRegression(samples, { epochs: 100 });
    expect(a).to.deep.equal(b);
    const index = modelInputNames.indexOf("recipient_first_time");
    expect(a.weights[index]).to.be.above(1);
    const model = parseRiskModel({ id: "t", version: 1, kind: "logistic_regression", ...a, training: {} });
    expect(scoreInputs(model, samples[0]!.inputs).score).to.be.above(0.9);
  });
});
