/**
 * The relayer's read behind the API's available balance (issue 17): what a sender signed away in
 * one principal's relays still in flight with no block, summed in one statement. A relay stops
 * counting once mined, confirmed, failed or dead; another sender's or another principal's relays
 * never count.
 */
import { expect } from "chai";

import { runMigrations } from "../../lib/db/migrate.ts";
import { relayerMigrations } from "../../relayer/db/migration-set.ts";
import { relayJobSchema, type RelayJobInput } from "../../relayer/jobs/relay-job.ts";
import { ensureRelayRecorded, recordTransition } from "../../relayer/record-transition.ts";
import { sumUnminedRelays } from "../../relayer/sum-unmined-relays.ts";
import { createTestDatabase, type TestEngine } from "../helpers/database.ts";

const ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const BOB = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const ESCROW_TERMS = {
  operator: BOB,
  payer: ALICE,
  merchant: BOB,
  token: TOKEN,
  maxAmount: "1000",
  authorizationExpiry: 2_000_000_000,
  refundExpiry: 2_000_000_000,
  minFeeBps: 0,
  maxFeeBps: 0,
  feeReceiver: BOB,
  salt: "1",
};
const SIGNATURE = `0x${"11".repeat(65)}`;
const HASH = `0x${"ab".repeat(32)}`;

let sequence = 0;
function transfer(from: string, value: bigint) {
  return {
    kind: "token.transferWithAuthorization" as const,
    token: TOKEN,
    from,
    to: from === ALICE ? BOB : ALICE,
    value: value.toString(),
    validAfter: "0",
    validBefore: "2000000000",
    nonce: `0x${(++sequence).toString(16).padStart(64, "0")}`,
    signature: SIGNATURE,
  };
}

for (const engine of ["pglite", "postgres"] as TestEngine[]) {
  describe(`sumUnminedRelays (${engine})`, function () {
    this.timeout(30_000);
    let database: Awaited<ReturnType<typeof createTestDatabase>>;

    const record = async (requestedBy: string, request: RelayJobInput["request"]) => {
      const relayId = `relay-sum-${++sequence}`;
      await ensureRelayRecorded(database, relayJobSchema.parse({ relayId, request, requestedBy }), new Date());
      return relayId;
    };
    const sum = (requestedBy: string, sender: string, exceptRelayId?: string) =>
      sumUnminedRelays(database, { requestedBy, sender, exceptRelayId });

    beforeEach(async () => {
      database = await createTestDatabase(engine, "sum_unmined");
      await runMigrations(database, [relayerMigrations]);
    });
    afterEach(async () => {
      await database.drop();
    });

    it("sums the sender's queued, signed and submitted relays with no block, and nothing when there are none", async () => {
      expect(await sum("u1", ALICE)).to.equal(0n);
      const queued = await record("u1", transfer(ALICE, 5n));
      const signed = await record("u1", transfer(ALICE, 7n));
      const submitted = await record("u1", transfer(ALICE, 11n));
      await recordTransition(database, [signed], "signed");
      await recordTransition(database, [submitted], "submitted", { transactionHash: HASH as `0x${string}` });
      expect(await sum("u1", ALICE)).to.equal(23n);
      expect(await sum("u1", ALICE.toLowerCase()), "the address in any case").to.equal(23n);
      expect(await sum("u1", ALICE, queued), "the relay left out").to.equal(18n);
    });

    it("stops counting a relay once it is mined, confirmed, failed or dead", async () => {
      const [mined, confirmed, failed, dead, cancelled, open] = [
        await record("u1", transfer(ALICE, 1n)),
        await record("u1", transfer(ALICE, 2n)),
        await record("u1", transfer(ALICE, 4n)),
        await record("u1", transfer(ALICE, 8n)),
        await record("u1", transfer(ALICE, 16n)),
        await record("u1", transfer(ALICE, 32n)),
      ];
      expect(await sum("u1", ALICE)).to.equal(63n);
      await recordTransition(database, [mined!], "mined", { transactionHash: HASH as `0x${string}`, blockNumber: 9n });
      await recordTransition(database, [confirmed!], "confirmed", {
        transactionHash: HASH as `0x${string}`,
        blockNumber: 9n,
      });
      await recordTransition(database, [failed!], "failed", { errorCode: "RELAY_REVERTED", errorMessage: "x" });
      await recordTransition(database, [dead!], "dead", { errorCode: "RELAY_RETRIES_EXHAUSTED", errorMessage: "x" });
      await recordTransition(database, [cancelled!], "cancelled");
      expect(await sum("u1", ALICE)).to.equal(32n);
      expect(open).to.be.a("string");
    });

    it("counts a relay again when its block left the chain (reorged, no block)", async () => {
      const relayId = await record("u1", transfer(ALICE, 3n));
      await recordTransition(database, [relayId], "mined", { transactionHash: HASH as `0x${string}`, blockNumber: 9n });
      expect(await sum("u1", ALICE)).to.equal(0n);
      await recordTransition(database, [relayId], "reorged", { clearBlock: true });
      expect(await sum("u1", ALICE)).to.equal(3n);
    });

    it("never counts another sender's or another principal's relays", async () => {
      await record("u1", transfer(ALICE, 5n));
      await record("u1", transfer(BOB, 100n));
      await record("u2", transfer(ALICE, 1_000n));
      expect(await sum("u1", ALICE)).to.equal(5n);
      expect(await sum("u1", BOB)).to.equal(100n);
      expect(await sum("u2", ALICE)).to.equal(1_000n);
      expect(await sum("u2", BOB)).to.equal(0n);
    });

    it("counts an escrow payment's amount for its payer, a refund's for its refunder, and a contract's moves for no signer", async () => {
      const funding = {
        method: "authorization" as const,
        validAfter: "0",
        validBefore: "2000000000",
        signature: SIGNATURE,
      };
      await record("u1", { kind: "escrow.authorize", terms: ESCROW_TERMS, amount: "40", funding });
      await record("u1", { kind: "escrow.charge", terms: ESCROW_TERMS, amount: "2", feeBps: 0, funding });
      await record("u1", {
        kind: "escrow.refundWithAuthorization",
        terms: ESCROW_TERMS,
        amount: "300",
        refunder: BOB,
        validAfter: "0",
        validBefore: "2000000000",
        refundSalt: HASH,
        signature: SIGNATURE,
      });
      await record("u1", { kind: "escrow.capture", terms: ESCROW_TERMS, amount: "5000", feeBps: 0 });
      await record("u1", { kind: "escrow.void", terms: ESCROW_TERMS });
      expect(await sum("u1", ALICE), "the payer's authorize and charge").to.equal(42n);
      expect(await sum("u1", BOB), "the merchant's refund").to.equal(300n);
    });
  });
}
