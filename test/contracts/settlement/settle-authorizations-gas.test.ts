import { expect } from "chai";
import type { ContractTransactionReceipt } from "ethers";
import { network } from "hardhat";

import { ONE } from "../../helpers/stablecoin.ts";
import {
  AUTHORIZATION_GAS_LIMIT,
  deploySettlement,
  errorData,
  signedItem,
  type SettlementFixture,
  type SignedItem,
} from "./settlement-fixture.ts";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const { loadFixture } = networkHelpers;

/** EIP-7825 (Osaka): no transaction may ask for more gas than 2^24. */
const TX_GAS_CAP = 16_777_216n;

async function fixture() {
  const f = await deploySettlement(connection);
  // The stranger owns two griefing wallets: honest ERC-1271 wallets until switched to burning gas.
  const griefers = [
    await ethers.deployContract("ERC1271GasBurningWalletMock", [f.stranger.address]),
    await ethers.deployContract("ERC1271GasBurningWalletMock", [f.stranger.address]),
  ];
  return { ...f, griefers };
}
type Fixture = Awaited<ReturnType<typeof fixture>>;

/** `count` honest items, alice and bob paying the two merchants in turn, each a distinct amount. */
const honestItems = (f: SettlementFixture, count: number, offset = 0) =>
  Promise.all(
    Array.from({ length: count }, (_, i) =>
      signedItem(
        f,
        (offset + i) % 2 === 0 ? f.alice : f.bob,
        i % 2 === 0 ? f.merchantA.address : f.merchantB.address,
        ONE + BigInt(offset + i),
      ),
    ),
  );

/** A value-0 item of a griefing wallet: it needs no funds, only a signature its owner made while it was honest. */
const grieferItem = async (f: Fixture, wallet: Fixture["griefers"][number]) =>
  signedItem(f, await wallet.getAddress(), f.merchantA.address, 0n, { signer: f.stranger });

type Outcome = { type: "settled" } | { type: "failed"; reason: string } | { type: "skipped" };

/**
 * Every item's outcome as the Settlement's events report it, checking that each item is reported exactly once
 * (by AuthorizationSettled, AuthorizationFailed, or the one AuthorizationsSkipped range) and for its own payer and
 * nonce.
 */
function outcomesOf(f: SettlementFixture, receipt: ContractTransactionReceipt, items: SignedItem[]): Outcome[] {
  const outcomes: (Outcome | undefined)[] = items.map(() => undefined);
  const report = (index: bigint, outcome: Outcome) => {
    const i = Number(index);
    expect(outcomes[i], `item ${i} reported twice`).to.equal(undefined);
    outcomes[i] = outcome;
  };
  let skipEvents = 0;
  for (const log of receipt.logs) {
    if (log.address !== f.settlementAddress) continue;
    const event = f.settlement.interface.parseLog(log)!;
    if (event.name === "AuthorizationSettled" || event.name === "AuthorizationFailed") {
      const [index, from, nonce] = event.args as unknown as [bigint, string, string];
      expect(from, `item ${index}'s payer`).to.equal(items[Number(index)]!.from);
      expect(nonce, `item ${index}'s nonce`).to.equal(items[Number(index)]!.nonce);
      report(
        index,
        event.name === "AuthorizationSettled"
          ? { type: "settled" }
          : { type: "failed", reason: event.args[3] as string },
      );
    } else if (event.name === "AuthorizationsSkipped") {
      skipEvents += 1;
      const [first, count] = event.args as unknown as [bigint, bigint];
      expect(first + count, "the skipped range runs to the batch's end").to.equal(BigInt(items.length));
      for (let i = first; i < first + count; i++) report(i, { type: "skipped" });
    }
  }
  expect(skipEvents, "at most one AuthorizationsSkipped event").to.be.at.most(1);
  outcomes.forEach((outcome, i) => expect(outcome, `item ${i} unreported`).to.not.equal(undefined));
  return outcomes as Outcome[];
}

/** Sends the batch with `gasLimit` and returns its mined receipt (the send throws if the transaction reverts). */
async function settle(f: SettlementFixture, items: SignedItem[], gasLimit: bigint) {
  const tx = await f.settlement.connect(f.relayer).settleAuthorizations(f.tokenAddress, items, { gasLimit });
  const receipt = (await tx.wait())!;
  expect(receipt.status, "the batch transaction succeeded").to.equal(1);
  return receipt;
}

/**
 * Builds `honestCount` honest items with the griefing wallets' items at `grieferAt`, estimates the batch with every
 * wallet honest (as a relayer simulates it), then switches the griefers to burning gas.
 */
async function batchWithGriefers(f: Fixture, honestCount: number, grieferAt: number[]) {
  const honest = await honestItems(f, honestCount);
  const items: SignedItem[] = [...honest];
  for (const [n, at] of grieferAt.entries()) items.splice(at, 0, await grieferItem(f, f.griefers[n]!));
  const estimate = await f.settlement.connect(f.relayer).settleAuthorizations.estimateGas(f.tokenAddress, items);
  for (const wallet of f.griefers.slice(0, grieferAt.length)) await wallet.setBurning(true);
  return { items, honest, estimate };
}

/** The griefing items fail with the token's StablecoinInvalidSignature; every other item settled and paid. */
async function expectOnlyGriefersFailed(
  f: Fixture,
  receipt: ContractTransactionReceipt,
  items: SignedItem[],
  grieferAt: number[],
) {
  const outcomes = outcomesOf(f, receipt, items);
  outcomes.forEach((outcome, i) => {
    if (grieferAt.includes(i))
      expect(outcome, `griefing item ${i}`).to.deep.equal({
        type: "failed",
        reason: errorData(f, "StablecoinInvalidSignature"),
      });
    else expect(outcome, `honest item ${i}`).to.deep.equal({ type: "settled" });
  });
  for (const item of items)
    expect(await f.token.authorizationState(item.from, item.nonce), `${item.nonce} used`).to.equal(item.value > 0n);
}

describe("Settlement.settleAuthorizations against a gas-burning ERC-1271 wallet", () => {
  it("fails only the griefing item and settles every honest one of 20 at 1.5x the estimate made while it was honest", async () => {
    // A node's estimate is the gas the batch uses when every item behaves as simulated; half as much again covers
    // one griefer's cap plus one item's requirement from about 15 items on. (A smaller batch at that limit skips
    // its tail instead — see below — which is why the relayer budgets from authorizationGasRequired.)
    const f = await loadFixture(fixture);
    const grieferAt = [10];
    const { items, estimate } = await batchWithGriefers(f, 20, grieferAt);
    const receipt = await settle(f, items, (estimate * 3n) / 2n);
    await expectOnlyGriefersFailed(f, receipt, items, grieferAt);
  });

  it("fails only the griefing item and settles every honest one with a 3M gas limit", async () => {
    const f = await loadFixture(fixture);
    const grieferAt = [2];
    const { items } = await batchWithGriefers(f, 10, grieferAt);
    const receipt = await settle(f, items, 3_000_000n);
    await expectOnlyGriefersFailed(f, receipt, items, grieferAt);
  });

  it("fails only the two griefing items and settles every honest one at the 16.7M per-transaction cap", async () => {
    const f = await loadFixture(fixture);
    const grieferAt = [0, 6];
    const { items } = await batchWithGriefers(f, 10, grieferAt);
    const receipt = await settle(f, items, TX_GAS_CAP);
    await expectOnlyGriefersFailed(f, receipt, items, grieferAt);
  });

  it("costs the relayer at most the per-item cap for a griefing item, not the transaction's gas", async () => {
    const f = await loadFixture(fixture);
    const { items: withGriefer } = await batchWithGriefers(f, 4, [2]);
    const receipt = await settle(f, withGriefer, TX_GAS_CAP);
    // The same four honest items without the griefer, on the same state.
    const f2 = await loadFixture(fixture);
    const honest = await honestItems(f2, 4);
    const baseline = await settle(f2, honest, TX_GAS_CAP);
    expect(receipt.gasUsed - baseline.gasUsed).to.be.lessThan(AUTHORIZATION_GAS_LIMIT + 20_000n);
  });

  it("settles the wallet's item like any ERC-1271 signature while it does not burn gas", async () => {
    const f = await loadFixture(fixture);
    const wallet = f.griefers[0]!;
    await f.token.connect(f.minter).mint(await wallet.getAddress(), ONE);
    const item = await signedItem(f, await wallet.getAddress(), f.merchantA.address, ONE, { signer: f.stranger });
    const [honest] = await honestItems(f, 1);
    const receipt = await settle(f, [item, honest!], 1_000_000n);
    expect(outcomesOf(f, receipt, [item, honest!])).to.deep.equal([{ type: "settled" }, { type: "settled" }]);
    expect(await f.token.balanceOf(await wallet.getAddress())).to.equal(0n);
  });
});

describe("Settlement.settleAuthorizations with too little gas", () => {
  it("skips the items it has no gas left for, with one AuthorizationsSkipped event, instead of reverting", async () => {
    const f = await loadFixture(fixture);
    const items = await honestItems(f, 10);
    const receipt = await settle(f, items, 500_000n);
    const outcomes = outcomesOf(f, receipt, items);
    const first = outcomes.findIndex((outcome) => outcome.type === "skipped");
    expect(first, "some items were skipped").to.be.greaterThan(0);
    await expect(receipt.hash)
      .to.emit(f.settlement, "AuthorizationsSkipped")
      .withArgs(BigInt(first), BigInt(items.length - first));
    outcomes.slice(0, first).forEach((outcome, i) => expect(outcome, `item ${i}`).to.deep.equal({ type: "settled" }));
    // A skipped item settled nothing: its authorization is unused, to be sent again.
    for (const item of items.slice(first))
      expect(await f.token.authorizationState(item.from, item.nonce)).to.equal(false);
    const paid = items.slice(0, first).reduce((sum, item) => sum + item.value, 0n);
    expect((await f.token.balanceOf(f.merchantA.address)) + (await f.token.balanceOf(f.merchantB.address))).to.equal(
      paid,
    );
  });

  it("skips every item when it cannot afford even the first", async () => {
    const f = await loadFixture(fixture);
    const items = await honestItems(f, 3);
    const receipt = await settle(f, items, 120_000n);
    expect(outcomesOf(f, receipt, items).map((o) => o.type)).to.deep.equal(["skipped", "skipped", "skipped"]);
  });

  it("never reverts and reports every item exactly once, at any gas limit from 120k to 1.5M, griefers included", async () => {
    const f = await loadFixture(fixture);
    const { items } = await batchWithGriefers(f, 4, [1, 4]);
    const seen = new Set<string>();
    // A prime step, so the limits fall at every offset from the items' boundaries.
    for (let gasLimit = 120_000n; gasLimit <= 1_500_000n; gasLimit += 9_973n) {
      const snapshot = await networkHelpers.takeSnapshot();
      const receipt = await settle(f, items, gasLimit);
      const outcomes = outcomesOf(f, receipt, items);
      // An item that ran short inside the token's call may fail; a griefer never settles.
      for (const i of [1, 4]) expect(outcomes[i]!.type, `griefing item ${i} at ${gasLimit}`).to.not.equal("settled");
      seen.add(outcomes.map((o) => ({ settled: "S", failed: "f", skipped: "-" })[o.type]).join(""));
      await snapshot.restore();
    }
    // The sweep crossed from "all skipped" to "all honest settled".
    expect(seen).to.include("-".repeat(items.length));
    expect(seen).to.include("SfSSfS");
  });
});

describe("Settlement authorization gas views", () => {
  it("returns the constructor's per-item gas limit and the gas an item needs left before it starts", async () => {
    const f = await loadFixture(fixture);
    expect(await f.settlement.authorizationGasLimit()).to.equal(AUTHORIZATION_GAS_LIMIT);
    const required = await f.settlement.authorizationGasRequired();
    // The limit, the 1/64 the EVM keeps back from a call (EIP-150), and a reserve for the events and the loop.
    expect(required).to.be.greaterThan(AUTHORIZATION_GAS_LIMIT + AUTHORIZATION_GAS_LIMIT / 63n);
    expect(required).to.be.lessThan(AUTHORIZATION_GAS_LIMIT + AUTHORIZATION_GAS_LIMIT / 63n + 20_000n);
  });

  it("refuses a zero per-item gas limit with SettlementInvalidAuthorizationGasLimit", async () => {
    const f = await loadFixture(fixture);
    const factory = await ethers.getContractFactory("Settlement");
    await expect(factory.deploy(f.admin.address, 60n, await f.forwarder.getAddress(), 0n))
      .to.be.revertedWithCustomError(f.settlement, "SettlementInvalidAuthorizationGasLimit")
      .withArgs(0n);
  });
});
