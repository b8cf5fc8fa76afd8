import { expect } from "chai";
import { decodeFunctionData, getAddress, type Hex } from "viem";

import { paymentEscrowAbi } from "../../lib/chain/abis/paymentEscrow.ts";
import { stablecoinAbi } from "../../lib/chain/abis/stablecoin.ts";
import { buildRelayCall } from "../../relayer/build-call.ts";
import { relayIdFor } from "../../relayer/enqueue-relay.ts";
import { relayRequestSchema } from "../../relayer/jobs/relay-request.ts";
import { checkAllowlist, realRecipients } from "../../relayer/send-policies.ts";

const at = (byte: string) => getAddress(`0x${byte.repeat(20)}`);
const contracts = { stablecoin: at("11"), paymentEscrow: at("22"), settlement: at("33"), forwarder: at("44") };
const signature = `0x${"ab".repeat(65)}` as Hex;
const terms = {
  operator: at("01"),
  payer: at("02"),
  merchant: at("03"),
  token: contracts.stablecoin,
  maxAmount: "1000",
  authorizationExpiry: 1_800_000_000,
  refundExpiry: 1_900_000_000,
  minFeeBps: 0,
  maxFeeBps: 0,
  feeReceiver: at("00"),
  salt: "7",
};

describe("relayIdFor", () => {
  it("derives the same id from the same business key, never with a colon", () => {
    expect(relayIdFor("transfer.u1.k1")).to.equal(relayIdFor("transfer.u1.k1"));
    expect(relayIdFor("transfer.u1.k1")).to.not.equal(relayIdFor("transfer.u1.k2"));
    expect(relayIdFor("a:b c")).to.match(/^relay-[0-9a-f]{32}$/);
  });

  it("is fixed-length and opaque: neither the user id nor the client's key can be read from it", () => {
    const userId = "0f8e7c2a-1b3d-4e5f-9a8b-7c6d5e4f3a2b";
    const clientKey = `idem-${"x".repeat(120)}`;
    for (const key of [`transfer.${userId}.${clientKey}`, "transfer.u1.k1", "pay.u.k"]) {
      const id = relayIdFor(key);
      expect(id).to.match(/^relay-[0-9a-f]{32}$/);
      expect(id).to.not.include(userId);
      expect(id).to.not.include("idem-");
      expect(id).to.not.include("u1");
    }
  });
});

describe("buildRelayCall (pure encoding of what a relay sends)", () => {
  it("encodes an EIP-3009 transfer to the token", () => {
    const request = relayRequestSchema.parse({
      kind: "token.transferWithAuthorization",
      token: contracts.stablecoin,
      from: at("05"),
      to: at("06"),
      value: "25",
      validAfter: "0",
      validBefore: "99",
      nonce: `0x${"cd".repeat(32)}`,
      signature,
    });
    const call = buildRelayCall(request, contracts);
    expect(call.to).to.equal(contracts.stablecoin);
    const decoded = decodeFunctionData({ abi: stablecoinAbi, data: call.data });
    expect(decoded.functionName).to.equal("transferWithAuthorization");
    expect(decoded.args.slice(0, 3)).to.deep.equal([at("05"), at("06"), 25n]);
  });

  it("encodes a refund by authorization to the escrow with the refunder and salt", () => {
    const request = relayRequestSchema.parse({
      kind: "escrow.refundWithAuthorization",
      terms,
      amount: "5",
      refunder: at("03"),
      validAfter: "0",
      validBefore: "99",
      refundSalt: `0x${"ef".repeat(32)}`,
      signature,
    });
    const call = buildRelayCall(request, contracts);
    expect(call.to).to.equal(contracts.paymentEscrow);
    const decoded = decodeFunctionData({ abi: paymentEscrowAbi, data: call.data });
    expect(decoded.functionName).to.equal("refundWithAuthorization");
    expect(decoded.args[1]).to.equal(5n);
    expect(decoded.args[2]).to.equal(at("03"));
  });

  it("refuses allowance or permit funding: the relayer carries only funding bound to the terms", () => {
    for (const funding of [{ method: "allowance" }, { method: "permit", deadline: "1", signature }]) {
      const parsed = relayRequestSchema.safeParse({ kind: "escrow.authorize", terms, amount: "1", funding });
      expect(parsed.success, JSON.stringify(funding)).to.equal(false);
    }
  });
});

describe("send policies: the real recipients", () => {
  it("names the payer of a refund, the merchant and fee receiver of an escrow step", () => {
    const refund = relayRequestSchema.parse({
      kind: "escrow.refundWithAuthorization",
      terms,
      amount: "5",
      refunder: at("03"),
      validAfter: "0",
      validBefore: "99",
      refundSalt: `0x${"ef".repeat(32)}`,
      signature,
    });
    expect(realRecipients(refund, contracts)).to.deep.equal([at("02")]);
    const capture = relayRequestSchema.parse({ kind: "escrow.capture", terms, amount: "1", feeBps: 0 });
    expect(realRecipients(capture, contracts)).to.deep.equal([at("03"), at("00")]);
  });

  it("refuses a recipient off the allowlist with RELAY_POLICY_RECIPIENT_NOT_ALLOWED", () => {
    const capture = relayRequestSchema.parse({ kind: "escrow.capture", terms, amount: "1", feeBps: 0 });
    expect(() => checkAllowlist(capture, contracts, [at("00")]))
      .to.throw()
      .with.property("code", "RELAY_POLICY_RECIPIENT_NOT_ALLOWED");
    expect(() => checkAllowlist(capture, contracts, [at("00"), at("03")])).to.not.throw();
    expect(() => checkAllowlist(capture, contracts, undefined)).to.not.throw();
  });
});
