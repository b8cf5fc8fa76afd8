import { randomBytes } from "node:crypto";

import { expect } from "chai";

import { createRelayerGateway } from "../../api/money/relayer-gateway.ts";
import { createRelayQueue } from "../../api/relayer/queue.ts";
import { TEST_REDIS_URL } from "./helpers/api-fixture.ts";

describe("createRelayerGateway (API → relayer queue)", () => {
  const prefix = `test-api-gateway-${randomBytes(4).toString("hex")}`;
  const queue = createRelayQueue({ redis: TEST_REDIS_URL, prefix });
  const request = {
    kind: "transferWithAuthorization" as const,
    idempotencyKey: `transfer-${randomBytes(8).toString("hex")}`,
    requestedBy: "user-1",
    token: "0x5FbDB2315678afecb367f032d93F642f64180aa3" as const,
    from: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" as const,
    to: "0x000000000000000000000000000000000000bEEF" as const,
    value: 5_000_000n,
    validAfter: 0n,
    validBefore: 4_000_000_000n,
    nonce: `0x${"ab".repeat(32)}` as const,
    signature: `0x${"11".repeat(65)}` as const,
  };

  after(async () => {
    await queue.transfers.obliterate({ force: true });
    await queue.operator.obliterate({ force: true });
    await queue.close();
  });

  it("queues a transferWithAuthorization job in the relayer's schema, once per business key", async () => {
    const gateway = createRelayerGateway({ queue, getRelay: async () => undefined });
    const { relayId } = await gateway.enqueueRelay(request);
    expect((await gateway.enqueueRelay(request)).relayId).to.equal(relayId);
    const job = await queue.transfers.getJob(relayId);
    expect(job?.data.request).to.deep.equal({
      kind: "token.transferWithAuthorization",
      token: request.token,
      from: request.from,
      to: request.to,
      value: "5000000",
      validAfter: "0",
      validBefore: "4000000000",
      nonce: request.nonce,
      signature: request.signature,
    });
    expect(job?.data.requestedBy).to.equal("user-1");
    expect(await queue.transfers.getJobCounts("waiting", "delayed", "prioritized")).to.satisfy(
      (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0) === 1,
    );
  });
});
