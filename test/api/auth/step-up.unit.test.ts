import { createHash } from "node:crypto";

import { expect } from "chai";

import { canonicalJson, digestOf } from "../../../api/auth/index.ts";
import { canonicalSecurityAction, stepUpPasskeyChallenge } from "../../../api/auth/step-up/canonical-digest.ts";

describe("step-up canonical digest", () => {
  it("sorts keys at every depth, drops undefined and writes no spaces", () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: null, e: "x" }], c: undefined } })).to.equal(
      '{"a":{"d":[2,{"e":"x","f":null}]},"b":1}',
    );
  });

  it("is 0x + SHA-256 of the canonical JSON (a fixed vector both halves of the money door agree on)", () => {
    const movement = {
      v: 1,
      chainId: 31337,
      userId: "00000000-0000-4000-8000-000000000001",
      kind: "transfer",
      token: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
      from: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
      to: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
      amount: "250000000",
      payees: [],
      deadline: null,
      idempotencyKey: "k-1",
    };
    const expected = `0x${createHash("sha256")
      .update(
        '{"amount":"250000000","chainId":31337,"deadline":null,"from":"0x70997970C51812dc3A010C7d01b50e0d17dc79C8","idempotencyKey":"k-1","kind":"transfer","payees":[],"to":"0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC","token":"0x5FbDB2315678afecb367f032d93F642f64180aa3","userId":"00000000-0000-4000-8000-000000000001","v":1}',
      )
      .digest("hex")}`;
    expect(digestOf(movement)).to.equal(expected);
    expect(digestOf({ ...movement, amount: "250000001" })).to.not.equal(expected);
  });

  it("binds a security action to its user and target, and the passkey challenge to the digest and nonce", () => {
    const a = digestOf(canonicalSecurityAction({ action: "create_api_key", userId: "u1", target: null }));
    expect(a).to.not.equal(digestOf(canonicalSecurityAction({ action: "create_api_key", userId: "u2", target: null })));
    expect(a).to.not.equal(digestOf(canonicalSecurityAction({ action: "remove_passkey", userId: "u1", target: null })));
    expect(stepUpPasskeyChallenge(a, "n1")).to.not.equal(stepUpPasskeyChallenge(a, "n2"));
    expect(stepUpPasskeyChallenge(a, "n1")).to.match(/^[A-Za-z0-9_-]{43}$/);
  });
});
