import { expect } from "chai";
import { getAddress, parseUnits, type Abi, type Account, type Address, type PublicClient } from "viem";

import { getBalance } from "../../lib/ledger/queries/get-balance.ts";
import { getBalances } from "../../lib/ledger/queries/get-balances.ts";
import { getHistory } from "../../lib/ledger/queries/get-history.ts";
import { getIndexedHead } from "../../lib/ledger/queries/get-indexed-head.ts";
import { getStatementCsv } from "../../lib/ledger/queries/get-statement-csv.ts";
import { getTransaction } from "../../lib/ledger/queries/get-transaction.ts";
import { listChainEvents } from "../../lib/ledger/queries/list-chain-events.ts";
import type { Indexer } from "../../indexer/runtime/create-indexer.ts";
import { createTestChain, type TestChain } from "../helpers/chain.ts";
import { createTestDatabase, describeEachEngine } from "../helpers/database.ts";
import { compileTestToken, deployTestToken } from "./fixtures/test-token.ts";
import { createTestIndexer, expectLedgerEqualsChain } from "./helpers/indexer-fixture.ts";

describeEachEngine("Indexer ledger against the chain", (engine) => {
  let chain: TestChain;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let indexer: Indexer;
  let token: Address;
  let client: PublicClient;
  const abi = compileTestToken().abi as Abi;

  const send = async (from: Account, functionName: string, args: unknown[]) => {
    const hash = await chain
      .wallet(from)
      .writeContract({ address: token, abi, functionName, args, account: from, chain: null });
    return chain.publicClient.waitForTransactionReceipt({ hash });
  };

  before(async () => {
    chain = await createTestChain();
    client = chain.publicClient;
    database = await createTestDatabase(engine, "ledger_sync");
    const deployed = await deployTestToken(client, chain.wallet(chain.accounts[0]!));
    token = deployed.address;
    for (const i of [0, 1, 2, 3, 5])
      await send(chain.accounts[0]!, "mint", [chain.accounts[i]!.address, parseUnits("1000", 6)]);
    indexer = await createTestIndexer({
      database,
      client,
      contracts: { Stablecoin: token },
      startBlock: deployed.blockNumber,
    });
  });

  after(async () => {
    await indexer.stop();
    await database.drop();
    await chain.close();
  });

  it("backfills mints, transfers and burns so every holder balance equals balanceOf and issuance equals −totalSupply", async () => {
    await send(chain.accounts[1]!, "transfer", [chain.accounts[2]!.address, 250n]);
    await send(chain.accounts[3]!, "burn", [1_000n]);
    // Tokens sent straight to the token contract itself stay on that contract's holder account.
    await send(chain.accounts[5]!, "transfer", [token, 7n]);
    await indexer.catchUp();
    await expectLedgerEqualsChain(database, client, token);
    expect(await getBalance(database, { chainId: 31337, account: token, token })).to.equal(7n);
  });

  it("serves balances as of a past block, history pages and a statement whose rows add up", async () => {
    const before = await client.getBlockNumber();
    const receipt = await send(chain.accounts[1]!, "transfer", [chain.accounts[2]!.address, 1n]);
    await indexer.catchUp();
    const holder = chain.accounts[1]!.address;
    const now = await getBalance(database, { chainId: 31337, account: holder, token });
    expect(await getBalance(database, { chainId: 31337, account: holder, token, blockNumber: before })).to.equal(
      now + 1n,
    );
    // Every token at once: the same balance at that block, and nothing before the account held any.
    const past = await getBalances(database, { chainId: 31337, account: holder, blockNumber: before });
    expect(past.map(({ token, balance }) => ({ token, balance }))).to.deep.equal([
      { token: getAddress(token), balance: now + 1n },
    ]);
    expect(past[0]!.lastChangeBlock <= before).to.equal(true);
    expect(await getBalances(database, { chainId: 31337, account: holder, blockNumber: 0n })).to.deep.equal([]);

    const first = await getHistory(database, { chainId: 31337, account: holder, limit: 1 });
    expect(first.items[0]!.transactionHash).to.equal(receipt.transactionHash);
    expect(first.items[0]!.amount).to.equal(-1n);
    const second = await getHistory(database, {
      chainId: 31337,
      account: holder,
      limit: 10,
      cursor: first.nextCursor!,
    });
    expect(second.items.map((item) => item.kind)).to.deep.equal(["transfer", "mint"]);
    expect(second.nextCursor).to.equal(null);

    const entries = await getTransaction(database, { chainId: 31337, transactionHash: receipt.transactionHash });
    expect(entries).to.have.length(1);
    expect(entries[0]!.postings.reduce((sum, posting) => sum + posting.amount, 0n)).to.equal(0n);

    const csv = (
      await getStatementCsv(database, {
        chainId: 31337,
        account: holder,
        token,
        fromBlock: 0n,
        toBlock: receipt.blockNumber,
      })
    )
      .trim()
      .split("\n");
    const amounts = csv.filter((line) => line.startsWith("entry")).map((line) => BigInt(line.split(",")[8]!));
    const closing = BigInt(csv[csv.length - 1]!.split(",")[9]!);
    expect(amounts.reduce((a, b) => a + b, 0n)).to.equal(closing);
    expect(closing).to.equal(now);

    const events = await listChainEvents(database, { chainId: 31337, afterId: 0n, limit: 1000 });
    expect(events.length).to.be.greaterThan(5);
    expect(events.every((event, i) => i === 0 || event.id > events[i - 1]!.id)).to.equal(true);
  });

  for (const depth of [1, 5, 20]) {
    it(`rolls back a reorg of depth ${depth} and applies the new branch, so the ledger equals the chain again`, async () => {
      await indexer.catchUp();
      const snapshot = await chain.testClient.snapshot();
      for (let i = 0; i < depth; i++)
        await send(chain.accounts[1]!, "transfer", [chain.accounts[2]!.address, 10n + BigInt(i)]);
      await indexer.catchUp();
      const orphanedHead = await getIndexedHead(database, { chainId: 31337 });
      await expectLedgerEqualsChain(database, client, token);

      await chain.testClient.revert({ id: snapshot });
      for (let i = 0; i < depth + 1; i++)
        await send(chain.accounts[3]!, "transfer", [chain.accounts[5]!.address, 3n + BigInt(i)]);
      await indexer.catchUp();
      const head = await getIndexedHead(database, { chainId: 31337 });
      expect(head!.number).to.equal(orphanedHead!.number + 1n);
      expect(head!.hash).to.not.equal(orphanedHead!.hash);
      await expectLedgerEqualsChain(database, client, token);
    });
  }

  it("rebuilds the ledger when the local chain was restarted from scratch (same id, shorter and different history)", async () => {
    const fresh = await createTestChain();
    try {
      const deployed = await deployTestToken(fresh.publicClient, fresh.wallet(fresh.accounts[0]!));
      await fresh.wallet(fresh.accounts[0]!).writeContract({
        address: deployed.address,
        abi,
        functionName: "mint",
        args: [fresh.accounts[6]!.address, 5n],
        account: fresh.accounts[0]!,
        chain: null,
      });
      const other = await createTestIndexer({
        database,
        client: fresh.publicClient,
        contracts: { Stablecoin: deployed.address },
        startBlock: deployed.blockNumber,
      });
      await other.catchUp();
      await expectLedgerEqualsChain(database, fresh.publicClient, deployed.address);
      expect(await getBalance(database, { chainId: 31337, account: chain.accounts[1]!.address, token })).to.equal(0n);
    } finally {
      await fresh.close();
    }
  });
});
