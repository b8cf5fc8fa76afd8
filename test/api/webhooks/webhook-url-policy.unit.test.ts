import { expect } from "chai";

import {
  checkWebhookUrl,
  forbiddenAddressReason,
  resolveWebhookHost,
  type Lookup,
} from "../../../api/webhooks/webhook-url-policy.ts";

describe("webhook URL policy", () => {
  const strict = { allowLoopback: false };
  const local = { allowLoopback: true };

  it("refuses every non-public address, also IPv4 hidden in IPv6, and allows public ones", () => {
    for (const address of [
      "127.0.0.1",
      "127.9.9.9",
      "10.1.2.3",
      "172.31.255.255",
      "192.168.0.1",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "224.0.0.1",
      "255.255.255.255",
      "::1",
      "::",
      "::ffff:127.0.0.1",
      "::ffff:a9fe:a9fe",
      "64:ff9b::a00:1",
      "fd00:ec2::254",
      "fe80::1",
      "ff02::1",
    ]) {
      expect(forbiddenAddressReason(address, strict), address).to.be.a("string");
    }
    for (const address of ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:93.184.216.34"]) {
      expect(forbiddenAddressReason(address, strict), address).to.equal(undefined);
    }
  });

  it("allows loopback only with WEBHOOK_ALLOW_LOOPBACK, and nothing else with it", () => {
    expect(forbiddenAddressReason("127.0.0.1", local)).to.equal(undefined);
    expect(forbiddenAddressReason("::ffff:127.0.0.1", local)).to.equal(undefined);
    expect(forbiddenAddressReason("169.254.169.254", local)).to.be.a("string");
    expect(forbiddenAddressReason("10.0.0.1", local)).to.be.a("string");
  });

  it("judges what the name resolves to now: a name that rebinds to a private address is refused", async () => {
    let answer = "93.184.216.34";
    const lookup: Lookup = async () => [{ address: answer, family: 4 }];
    expect(await resolveWebhookHost("hooks.example.com", strict, lookup)).to.deep.equal([
      { address: "93.184.216.34", family: 4 },
    ]);
    answer = "169.254.169.254";
    await resolveWebhookHost("hooks.example.com", strict, lookup).then(
      () => expect.fail("accepted a rebound name"),
      (error: { code: string }) => expect(error.code).to.equal("WEBHOOK_URL_FORBIDDEN"),
    );
  });

  it("refuses a name with one forbidden answer among public ones, and a name that does not resolve", async () => {
    const mixed: Lookup = async () => [
      { address: "93.184.216.34", family: 4 },
      { address: "10.0.0.5", family: 4 },
    ];
    const none: Lookup = async () => {
      throw Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" });
    };
    for (const lookup of [mixed, none]) {
      await checkWebhookUrl("https://hooks.example.com/x", strict, lookup).then(
        () => expect.fail("accepted"),
        (error: { code: string }) => expect(error.code).to.equal("WEBHOOK_URL_FORBIDDEN"),
      );
    }
  });
});
