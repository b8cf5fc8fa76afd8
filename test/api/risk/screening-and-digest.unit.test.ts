import { readFileSync } from "node:fs";

import { expect } from "chai";
import { encodeFunctionData, getAddress, type Address } from "viem";

import { stablecoinAbi } from "../../../lib/chain/abis/stablecoin.ts";
import { canonicalMovement, movementDigest } from "../../../api/risk/movement-digest.ts";
import { movementFeatures } from "../../../api/risk/movement-features.ts";
import { realParties } from "../../../api/risk/real-parties.ts";
import { parseOfacSdnXml, parseScreeningCsv } from "../../../api/risk/screening/parse-lists.ts";

const sdn = readFileSync(new URL("../../fixtures/screening/sdn-sample.xml", import.meta.url), "utf8");
const A = "0x1111111111111111111111111111111111111111" as Address;
const B = "0x2222222222222222222222222222222222222222" as Address;
const BAD = "0x00000000000000000000000000000000000bad01" as Address;
const ESCROW = "0x3333333333333333333333333333333333333333" as Address;
const TOKEN = "0x4444444444444444444444444444444444444444" as Address;

describe("Screening lists (api/risk/screening/parse-lists.ts)", () => {
  it("reads the Digital Currency Address - ETH ids of OFAC SDN XML, with the entry's uid and name", () => {
    const { entries, skipped } = parseOfacSdnXml(sdn);
    expect(entries).to.deep.equal([
      { address: "0x00000000000000000000000000000000000bad01", entryUid: "90001", entryName: "EXAMPLE MIXER" },
      { address: "0x00000000000000000000000000000000000bad02", entryUid: "90001", entryName: "EXAMPLE MIXER" },
    ]);
    expect(skipped, "the ETH id that is no address").to.equal(1);
  });

  it("refuses a document that is no SDN list with SCREENING_LIST_INVALID", () => {
    expect(() => parseOfacSdnXml("<html></html>"))
      .to.throw()
      .with.property("code", "SCREENING_LIST_INVALID");
  });

  it("reads a CSV with or without header, lower-casing addresses, and names the first bad line", () => {
    const { entries } = parseScreeningCsv(`address,name,uid\n${getAddress(BAD)},Mixer,7\n\n# comment\n${A}`);
    expect(entries).to.deep.equal([
      { address: BAD, entryName: "Mixer", entryUid: "7" },
      { address: A, entryName: null, entryUid: null },
    ]);
    expect(() => parseScreeningCsv(`${A}\nnope`))
      .to.throw()
      .with.property("details")
      .that.deep.equals({ line: 2 });
  });
});

describe("The real parties of a signed request (api/risk/real-parties.ts)", () => {
  it("finds the recipient inside a forwarded token call, not only the forwarder's target", () => {
    const data = encodeFunctionData({ abi: stablecoinAbi, functionName: "transfer", args: [BAD, 5n] });
    const parties = realParties(
      {
        kind: "forwarder.execute",
        request: { from: A, to: TOKEN, value: "0", gas: "100000", deadline: 1, data, signature: "0x" },
      },
      ESCROW,
    );
    expect(parties).to.include(getAddress(BAD));
    expect(parties).to.include.members([getAddress(A), getAddress(TOKEN)]);
  });

  it("names an EIP-3009 authorization's parties and every payout's merchant", () => {
    expect(
      realParties(
        {
          kind: "token.transferWithAuthorization",
          token: TOKEN,
          from: A,
          to: BAD,
          value: "1",
          validAfter: "0",
          validBefore: "9",
          nonce: `0x${"00".repeat(32)}`,
          signature: "0x",
        },
        ESCROW,
      ),
    ).to.deep.equal([getAddress(A), getAddress(BAD)]);
    expect(
      realParties(
        {
          kind: "settlement.payout",
          batchId: `0x${"11".repeat(32)}`,
          token: TOKEN,
          items: [
            { merchant: B, amount: "1", payoutReference: `0x${"22".repeat(32)}` },
            { merchant: BAD, amount: "1", payoutReference: `0x${"33".repeat(32)}` },
          ],
        },
        ESCROW,
      ),
    ).to.deep.equal([getAddress(B), getAddress(BAD)]);
  });
});

describe("The movement digest a step-up approval is bound to (api/risk/movement-digest.ts)", () => {
  const base = {
    chainId: 31337,
    userId: "u1",
    kind: "transfer",
    token: TOKEN,
    from: A,
    to: B,
    amount: 250n,
    idempotencyKey: "k1",
  };

  it("is the SHA-256 of the canonical JSON with sorted keys, whatever the address case", () => {
    const digest = movementDigest(canonicalMovement(base));
    expect(digest).to.match(/^0x[0-9a-f]{64}$/);
    expect(movementDigest(canonicalMovement({ ...base, to: B.toLowerCase() as Address }))).to.equal(digest);
    expect(canonicalMovement(base)).to.include({ amount: "250", deadline: null, v: 1 });
  });

  it("differs for another amount, recipient, token, deadline or Idempotency-Key", () => {
    const digest = movementDigest(canonicalMovement(base));
    for (const change of [
      { amount: 251n },
      { to: A },
      { token: ESCROW },
      { deadline: 99n },
      { idempotencyKey: "k2" },
      { payees: [B] },
    ]) {
      expect(
        movementDigest(canonicalMovement({ ...base, ...change })),
        JSON.stringify(Object.keys(change)),
      ).to.not.equal(digest);
    }
  });
});

describe("A movement's features (api/risk/movement-features.ts)", () => {
  it("names each window's totals by the rule set's window names, and takes the ratio to the user's median", () => {
    const features = movementFeatures({
      amount: 300n,
      kind: "transfer",
      tier: "basic",
      senderOwn: true,
      recipientFirstTime: false,
      recipientOnPlatform: true,
      history: [10n, 30n, 20n],
      historyCount: 3,
      sessionAgeSeconds: null,
      deviceAgeSeconds: null,
      screeningHit: false,
      windows: [
        { name: "2m", seconds: 120 },
        { name: "1h", seconds: 3600 },
      ],
      // By length, in another order than the rule set's: the names come from the rule set.
      windowTotals: [
        { seconds: 3600, count: 3, amount: 340n, recipients: 2 },
        { seconds: 120, count: 2, amount: 310n, recipients: 1 },
      ],
    });
    expect(features["window.2m.count"]).to.equal(2);
    expect(features["window.2m.amount"]).to.equal(310n);
    expect(features["window.2m.recipients"]).to.equal(1);
    expect(features["window.1h.count"]).to.equal(3);
    expect(features["window.1h.amount"]).to.equal(340n);
    expect(features["window.1h.recipients"]).to.equal(2);
    expect(features["amount.ratioToMedian"]).to.equal(15);
  });
});
