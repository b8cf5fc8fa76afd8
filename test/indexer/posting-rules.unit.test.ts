import { expect } from "chai";
import { getAddress, padHex, zeroAddress, type Address, type Hash, type Hex } from "viem";

import { applyEscrowEvent } from "../../lib/ledger/payment-state.ts";
import { journalize } from "../../lib/ledger/posting-rules.ts";
import type { DecodedLog, IndexedContractName, PaymentState } from "../../lib/ledger/types.ts";

const address = (n: number) => getAddress(padHex(`0x${n.toString(16)}`, { size: 20 }));
const token = address(0x70);
const escrow = address(0xe5);
const settlement = address(0x5e);
const payer = address(1);
const merchant = address(2);
const feeReceiver = address(3);
const operator = address(4);
const paymentId = padHex("0xabc", { size: 32 });

let logIndex = 0;
const log = (
  contractName: IndexedContractName,
  eventName: string,
  args: Record<string, unknown>,
  transactionHash: Hash = padHex("0x1", { size: 32 }),
): DecodedLog => ({
  chainId: 31337,
  blockNumber: 10n,
  blockHash: padHex("0xb", { size: 32 }),
  blockTimestamp: 1_700_000_000n,
  transactionHash,
  logIndex: logIndex++,
  address: contractName === "Stablecoin" ? token : contractName === "PaymentEscrow" ? escrow : settlement,
  contractName,
  eventName,
  args,
});
const transfer = (from: Address, to: Address, value: bigint, tx?: Hash) =>
  log("Stablecoin", "Transfer", { from, to, value }, tx);
const context = { escrow, settlement };
const legs = (entries: ReturnType<typeof journalize>) =>
  entries.map((entry) => [entry.kind, entry.postings[0].account, entry.postings[1].account, entry.postings[1].amount]);

describe("Posting rules (journalize)", () => {
  beforeEach(() => (logIndex = 0));

  it("books a mint from the token's issuance account and a burn back to it", () => {
    const entries = journalize([transfer(zeroAddress, payer, 100n), transfer(payer, zeroAddress, 40n)], context);
    expect(legs(entries)).to.deep.equal([
      ["mint", `issuance:${token}`, `holder:${payer}`, 100n],
      ["burn", `holder:${payer}`, `issuance:${token}`, 40n],
    ]);
  });

  it("makes every entry's postings sum to zero", () => {
    const entries = journalize([transfer(payer, merchant, 5n), transfer(zeroAddress, payer, 7n)], context);
    // One entry per Transfer log: an empty result would pass the loop below vacuously.
    expect(entries).to.have.length(2);
    for (const entry of entries) {
      expect(entry.postings).to.have.length(2);
      expect(entry.postings[0].amount + entry.postings[1].amount).to.equal(0n);
    }
  });

  it("moves an authorization into the payment's escrow account, and a capture out to merchant and fee receiver", () => {
    const entries = journalize(
      [
        log("PaymentEscrow", "PaymentAuthorized", {
          paymentId,
          payer,
          merchant,
          operator,
          token,
          amount: 100n,
          terms: {},
        }),
        transfer(payer, escrow, 100n),
        log(
          "PaymentEscrow",
          "PaymentCaptured",
          { paymentId, merchant, feeReceiver, amount: 60n, fee: 6n },
          padHex("0x2", { size: 32 }),
        ),
        transfer(escrow, merchant, 54n, padHex("0x2", { size: 32 })),
        transfer(escrow, feeReceiver, 6n, padHex("0x2", { size: 32 })),
      ],
      context,
    );
    expect(legs(entries)).to.deep.equal([
      ["escrow_authorize", `holder:${payer}`, `escrow:${paymentId}`, 100n],
      ["escrow_capture", `escrow:${paymentId}`, `holder:${merchant}`, 54n],
      ["escrow_fee", `escrow:${paymentId}`, `holder:${feeReceiver}`, 6n],
    ]);
    expect(entries.every((entry) => entry.reference === paymentId)).to.equal(true);
  });

  it("books a void and a reclaim from the escrow account back to the payer, and a refund from the refunder to the payer", () => {
    const entries = journalize(
      [
        log("PaymentEscrow", "PaymentVoided", { paymentId, payer, amount: 10n }),
        transfer(escrow, payer, 10n),
        log("PaymentEscrow", "PaymentReclaimed", { paymentId, payer, amount: 3n }),
        transfer(escrow, payer, 3n),
        log("PaymentEscrow", "PaymentRefunded", { paymentId, payer, refunder: merchant, amount: 5n }),
        transfer(merchant, payer, 5n),
      ],
      context,
    );
    expect(legs(entries)).to.deep.equal([
      ["escrow_void", `escrow:${paymentId}`, `holder:${payer}`, 10n],
      ["escrow_reclaim", `escrow:${paymentId}`, `holder:${payer}`, 3n],
      ["escrow_refund", `holder:${merchant}`, `holder:${payer}`, 5n],
    ]);
  });

  it("keeps a transfer to the escrow without an escrow event on the escrow contract's holder account", () => {
    const entries = journalize(
      [
        log("PaymentEscrow", "PaymentAuthorized", {
          paymentId,
          payer,
          merchant,
          operator,
          token,
          amount: 1n,
          terms: {},
        }),
        transfer(payer, escrow, 1n),
        transfer(payer, escrow, 9n, padHex("0x9", { size: 32 })),
      ],
      context,
    );
    expect(legs(entries)[1]).to.deep.equal(["transfer", `holder:${payer}`, `holder:${escrow}`, 9n]);
  });

  it("labels a payout item's transfer and a batched EIP-3009 transfer with their references", () => {
    const batchId = padHex("0xba7c4", { size: 32 });
    const nonce = padHex("0x11", { size: 32 }) as Hex;
    const entries = journalize(
      [
        log("Settlement", "PayoutItemPaid", {
          batchId,
          index: 0n,
          merchant,
          amount: 8n,
          payoutReference: padHex("0x0", { size: 32 }),
        }),
        transfer(settlement, merchant, 8n),
        log("Stablecoin", "AuthorizationUsed", { authorizer: payer, nonce }, padHex("0x3", { size: 32 })),
        transfer(payer, merchant, 4n, padHex("0x3", { size: 32 })),
        log("Settlement", "AuthorizationSettled", { index: 0n, from: payer, nonce }, padHex("0x3", { size: 32 })),
      ],
      context,
    );
    expect(entries.map((entry) => [entry.kind, entry.reference])).to.deep.equal([
      ["settlement_payout", batchId],
      ["settlement_authorization", nonce],
    ]);
  });
});

describe("Escrow payment state (applyEscrowEvent)", () => {
  it("tracks held, captured and refunded through authorize, partial capture, refund", () => {
    let state: PaymentState | undefined = applyEscrowEvent(
      undefined,
      log("PaymentEscrow", "PaymentAuthorized", {
        paymentId,
        payer,
        merchant,
        operator,
        token,
        amount: 100n,
        terms: { salt: 1n },
      }),
    );
    state = applyEscrowEvent(
      state,
      log("PaymentEscrow", "PaymentCaptured", { paymentId, merchant, feeReceiver, amount: 60n, fee: 0n }),
    );
    expect([state!.held, state!.captured, state!.status]).to.deep.equal([40n, 60n, "captured"]);
    state = applyEscrowEvent(
      state,
      log("PaymentEscrow", "PaymentRefunded", { paymentId, payer, refunder: merchant, amount: 20n }),
    );
    expect([state!.refunded, state!.status]).to.deep.equal([20n, "partially_refunded"]);
    expect(state!.terms).to.deep.equal({ salt: "1" });
  });
});
