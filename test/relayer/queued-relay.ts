/**
 * A relay job as the API queues one, for tests and benchmarks that drive the relayer's statements without a
 * chain: an EIP-3009 transfer of 1 unit between two Hardhat accounts. Its signature is a placeholder, never
 * checked: no statement of the relayer reads it, and no chain sees it.
 */
import { relayJobSchema } from "../../relayer/jobs/relay-job.ts";
import type { QueuedRelay } from "../../relayer/record-transition.ts";

export function queuedTransferRelay(relayId: string, requestedBy: string, nonce: `0x${string}`): QueuedRelay {
  return {
    job: relayJobSchema.parse({
      relayId,
      requestedBy,
      request: {
        kind: "token.transferWithAuthorization",
        token: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
        from: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        to: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
        value: "1",
        validAfter: "0",
        validBefore: "2000000000",
        nonce,
        signature: `0x${"1b".repeat(65)}`,
      },
    }),
    queuedAt: new Date(),
  };
}
