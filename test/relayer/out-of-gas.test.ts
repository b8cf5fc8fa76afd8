/**
 * A relay whose transaction runs out of gas on chain (found by the reorg fault test, about one run
 * in four, issue 17 note): the relayer sets a transaction's gas limit from a simulation, and the
 * state it mines on can cost more — here the recipient's balance was emptied between the
 * simulation and the block (its balance slot goes from zero again, +17,100 gas), as after a reorg
 * took the recipient's earlier credit away. Such a transaction executes nothing, so the relay
 * must not end failed: the relayer sends the call again with a higher limit, once the out-of-gas
 * block stands at the configured confirmations. A revert for another reason — a third party used
 * the authorization first — is the request's end, never a reason to send it again.
 */
import { expect } from "chai";
import { sql } from "drizzle-orm";
import { getAddress, type Account, type Hex } from "viem";

import { stablecoinAbi } from "../../lib/chain/abis/stablecoin.ts";
import { relayerTransactions } from "../../relayer/db/schema.ts";
import { enqueueRelay } from "../../relayer/enqueue-relay.ts";
import { getRelay } from "../../relayer/get-relay.ts";
import type { RelayerWorkers } from "../../relayer/start-relayer-workers.ts";
import { HARDHAT_PRIVATE_KEYS } from "../helpers/chain.ts";
import { createRelayerFixture, type RelayerFixture } from "./fixture.ts";

const KEY = HARDHAT_PRIVATE_KEYS[1];
/**
 * A tip far above the relayer's, so the node orders this transaction first in the block; and a
 * gas limit of its own (an estimate on the pending block would see the relayer's transaction).
 */
const FRONT_OF_BLOCK = { maxPriorityFeePerGas: 100_000_000_000n, maxFeePerGas: 400_000_000_000n, gas: 200_000n };

for (const confirmations of [0, 2]) {
  describe(`A relay whose transaction runs out of gas on chain (RELAYER_CONFIRMATIONS=${confirmations})`, function () {
    this.timeout(90_000);
    let f: RelayerFixture;
    let workers: RelayerWorkers;

    before(async () => {
      f = await createRelayerFixture(`out-of-gas${confirmations}`);
      workers = await f.startWorkers({ relayerKeys: [KEY], confirmations, watchIntervalMs: 100 });
    });
    // Whatever a failed assertion left in the mempool is mined, so the workers' jobs can end.
    afterEach(async () => {
      await f.chain.testClient.setAutomine(true);
      await f.chain.testClient.mine({ blocks: 1 + confirmations });
    });
    after(async () => {
      await f?.chain.provider.request({ method: "evm_setIntervalMining", params: [100] } as never);
      await workers?.close();
      await f?.close();
    });

    /** Sends a token call from `account` itself, not through the relayer; `ahead`: first in its block. */
    const callToken = (
      account: Account,
      functionName: "transfer" | "transferWithAuthorization",
      args: readonly unknown[],
      ahead = true,
    ) => {
      const wallet = f.chain.wallet(account);
      return wallet.writeContract({
        address: f.contracts.stablecoin,
        abi: stablecoinAbi,
        functionName,
        args: args as never,
        chain: wallet.chain,
        account,
        ...(ahead ? FRONT_OF_BLOCK : {}),
      });
    };
    const until = async <T>(read: () => Promise<T | undefined>, what: string, boundMs = 30_000): Promise<T> => {
      for (const end = Date.now() + boundMs; ;) {
        const value = await read();
        if (value !== undefined) return value;
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const relayIn = (relayId: string, statuses: string[]) => async () => {
      const relay = await getRelay(f.database, relayId);
      return relay && statuses.includes(relay.status) ? relay : undefined;
    };

    it("sends the call again with a higher limit after the block that ran it out of gas stands, and pays once", async () => {
      // The recipient holds a balance when the relayer simulates; a transaction of its own, ahead
      // in the same block, empties it before the relay's runs.
      const recipient = f.chain.accounts[13]!;
      const sink = f.chain.accounts[14]!.address;
      await f.chain.publicClient.waitForTransactionReceipt({
        hash: await callToken(f.chain.accounts[6]!, "transfer", [recipient.address, 5n], false),
      });
      expect(getAddress(f.chain.accounts[6]!.address)).to.equal(getAddress(f.alice.address));
      const aliceBefore = await f.token.balanceOf(f.alice.address);

      const snapshot = await f.chain.testClient.snapshot();
      await f.chain.testClient.setAutomine(false);
      const request = await f.signTransfer(f.alice, recipient.address, 1_000n);
      const { relayId } = await enqueueRelay(workers.queue, {
        idempotencyKey: `out-of-gas${confirmations}`,
        request,
        requestedBy: "u1",
      });
      const submitted = await until(relayIn(relayId, ["submitted"]), "the relay to be submitted");
      const emptied = await callToken(recipient, "transfer", [sink, 5n]);
      await f.chain.testClient.mine({ blocks: 1 });
      const first = await f.chain.publicClient.getTransactionReceipt({ hash: submitted.transactionHash as Hex });
      const emptiedIn = await f.chain.publicClient.getTransactionReceipt({ hash: emptied });
      expect(emptiedIn.blockNumber, "the recipient's own transfer is in the same block").to.equal(first.blockNumber);
      // The precondition, so this test cannot pass without the path it is about: the relayer's
      // limit did not cover the emptied slot, and the whole limit was used.
      const firstGasLimit = (await f.chain.publicClient.getTransaction({ hash: first.transactionHash })).gas;
      expect([first.status, first.gasUsed], "the relay's first transaction ran out of gas").to.deep.equal([
        "reverted",
        firstGasLimit,
      ]);
      if (confirmations > 0) {
        // Nothing is sent again before the out-of-gas block has its confirmations.
        const mined = await until(relayIn(relayId, ["mined", "replaced", "failed"]), "the relay to be recorded mined");
        expect(mined.status, `${mined.errorCode}: ${mined.errorMessage}`).to.equal("mined");
        await new Promise((resolve) => setTimeout(resolve, 500));
        expect((await getRelay(f.database, relayId))!.status, "still waiting on the block").to.equal("mined");
      }
      await f.chain.testClient.setAutomine(true);
      if (confirmations > 0) await f.chain.testClient.mine({ blocks: confirmations });
      const resent = await until(
        relayIn(relayId, ["signed", "submitted", "mined", "confirmed", "failed"]),
        "a re-send",
      );
      expect(resent.status, `${resent.errorCode}: ${resent.errorMessage}`).to.not.equal("failed");
      await f.chain.provider.request({ method: "evm_setIntervalMining", params: [100] } as never);
      const relay = await f.waitForRelay(relayId);
      await f.chain.provider.request({ method: "evm_setIntervalMining", params: [0] } as never);

      expect(relay.status, `${relay.errorCode}: ${relay.errorMessage}`).to.equal("confirmed");
      expect(relay.transitions.map((t) => t.status)).to.deep.equal([
        "queued",
        "signed",
        "submitted",
        "mined",
        "replaced",
        "signed",
        "submitted",
        "mined",
        "confirmed",
      ]);
      const replaced = relay.transitions.find((t) => t.status === "replaced")!;
      expect(replaced.transactionHash).to.equal(first.transactionHash);
      expect(replaced.detail).to.deep.equal({
        outOfGas: { gasUsed: first.gasUsed.toString(), gasLimit: firstGasLimit.toString() },
      });
      const second = await f.chain.publicClient.getTransactionReceipt({ hash: relay.transactionHash as Hex });
      expect(second.status).to.equal("success");
      expect(second.blockNumber, "sent after the out-of-gas block had its confirmations").to.be.greaterThan(
        first.blockNumber + BigInt(confirmations),
      );
      const secondGasLimit = (await f.chain.publicClient.getTransaction({ hash: second.transactionHash })).gas;
      expect(secondGasLimit >= (firstGasLimit * 3n) / 2n, "a higher limit").to.equal(true);
      // Paid once: the relay's value left Alice once and reached the recipient once.
      expect(await f.token.balanceOf(f.alice.address)).to.equal(aliceBefore - 1_000n);
      expect(await f.token.balanceOf(recipient.address)).to.equal(1_000n);
      const rows = await f.database.db
        .select()
        .from(relayerTransactions)
        .where(sql`${relayerTransactions.relayIds} @> ${JSON.stringify([relayId])}::jsonb`);
      expect(rows.map((row) => row.hash).sort()).to.deep.equal([first.transactionHash, second.transactionHash].sort());
      const firstRow = rows.find((row) => row.hash === first.transactionHash)!;
      const secondRow = rows.find((row) => row.hash === second.transactionHash)!;
      expect([firstRow.status, secondRow.status]).to.deep.equal(["out-of-gas", "mined"]);
      expect(secondRow.nonce, "the next nonce").to.equal(firstRow.nonce + 1);

      if (confirmations > 0) {
        // A reorg deeper than the confirmations takes both blocks away. The out-of-gas bytes are
        // not broadcast again — on the older state they would succeed, and the re-sent call would
        // then revert with its authorization used: a relay failed whose money moved. Their nonce
        // is filled instead, and the call runs once, in the re-sent transaction.
        await f.chain.testClient.revert({ id: snapshot });
        await f.chain.provider.request({ method: "evm_setIntervalMining", params: [100] } as never);
        const again = await until(async () => {
          const now = await getRelay(f.database, relayId);
          if (!now?.transitions.some((t) => t.status === "reorged")) return undefined;
          return now.status === "confirmed" || now.status === "failed" ? now : undefined;
        }, "the relay to be confirmed again after the reorg");
        await f.chain.provider.request({ method: "evm_setIntervalMining", params: [0] } as never);
        expect(again.status, `${again.errorCode}: ${again.errorMessage}`).to.equal("confirmed");
        expect(again.transactionHash).to.equal(second.transactionHash);
        const rerun = await f.chain.publicClient.getTransactionReceipt({ hash: second.transactionHash });
        expect(rerun.status).to.equal("success");
        expect(
          await f.chain.publicClient.getTransactionReceipt({ hash: first.transactionHash }).catch(() => undefined),
          "the out-of-gas transaction is not on the chain any more",
        ).to.equal(undefined);
        const filler = await f.chain.publicClient.getTransactionCount({ address: firstRow.relayer as Hex });
        expect(filler, "both nonces used again").to.be.greaterThan(secondRow.nonce);
        expect(await f.token.balanceOf(f.alice.address)).to.equal(aliceBefore - 1_000n);
      }
    });

    it("does not send again a call whose authorization a third party used first: the relay ends failed, paid once", async () => {
      await f.chain.testClient.setAutomine(false);
      const request = await f.signTransfer(f.alice, f.bob.address, 2_000n);
      const bobBefore = await f.token.balanceOf(f.bob.address);
      const { relayId } = await enqueueRelay(workers.queue, {
        idempotencyKey: `front-run${confirmations}`,
        request,
        requestedBy: "u1",
      });
      const submitted = await until(relayIn(relayId, ["submitted"]), "the relay to be submitted");
      // Mallory copies the signed authorization out of the mempool and sends it herself, first.
      const mallory = f.chain.accounts[15]!;
      const frontRun = await callToken(mallory, "transferWithAuthorization", [
        request.from,
        request.to,
        2_000n,
        0n,
        BigInt(request.validBefore),
        request.nonce,
        request.signature,
      ]);
      await f.chain.testClient.setAutomine(true);
      await f.chain.testClient.mine({ blocks: 1 + confirmations });
      await f.chain.provider.request({ method: "evm_setIntervalMining", params: [100] } as never);
      const relay = await f.waitForRelay(relayId);
      await f.chain.provider.request({ method: "evm_setIntervalMining", params: [0] } as never);

      expect((await f.chain.publicClient.getTransactionReceipt({ hash: frontRun })).status).to.equal("success");
      const ours = await f.chain.publicClient.getTransactionReceipt({ hash: submitted.transactionHash as Hex });
      expect(ours.status).to.equal("reverted");
      expect(relay.status).to.equal("failed");
      expect(relay.errorCode).to.equal("RELAY_REVERTED");
      expect(relay.errorMessage).to.contain("StablecoinAuthorizationUsed");
      expect(relay.transitions.map((t) => t.status)).to.not.include("replaced");
      const rows = await f.database.db
        .select()
        .from(relayerTransactions)
        .where(sql`${relayerTransactions.relayIds} @> ${JSON.stringify([relayId])}::jsonb`);
      expect(
        rows.map((row) => row.hash),
        "one transaction, not sent again",
      ).to.deep.equal([submitted.transactionHash]);
      expect(await f.token.balanceOf(f.bob.address)).to.equal(bobBefore + 2_000n);
    });
  });
}
