import { expect } from "chai";

import {
  canonicalJournalEntry,
  hashJournalEntry,
  hashRollback,
  journalChainAnchor,
  linkJournalChain,
  type ChainedEntry,
} from "../../../lib/ledger/journal-chain.ts";

const entry: ChainedEntry = {
  chainId: 31337,
  blockNumber: 12n,
  logIndex: 3,
  blockHash: `0x${"ab".repeat(32)}`,
  blockTimestamp: 1_700_000_000n,
  transactionHash: `0x${"cd".repeat(32)}`,
  token: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
  kind: "transfer",
  reference: null,
  event: {
    transfer: { from: "0x01", to: "0x02", value: "5" },
    cause: { logIndex: 2, args: { b: 1, a: [2, { z: 1, y: 2 }] } },
  },
  postings: [
    {
      leg: 0,
      account: "holder:0x01",
      counterparty: "holder:0x02",
      token: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
      amount: -5n,
      balanceAfter: 95n,
      kind: "transfer",
      blockTimestamp: 1_700_000_000n,
    },
    {
      leg: 1,
      account: "holder:0x02",
      counterparty: "holder:0x01",
      token: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
      amount: 5n,
      balanceAfter: 5n,
      kind: "transfer",
      blockTimestamp: 1_700_000_000n,
    },
  ],
};

describe("journal hash chain (lib/ledger/journal-chain)", () => {
  it("hashes an entry independently of the event's key order and of the postings' order", () => {
    const reordered: ChainedEntry = {
      ...entry,
      event: {
        cause: { args: { a: [2, { y: 2, z: 1 }], b: 1 }, logIndex: 2 },
        transfer: { value: "5", to: "0x02", from: "0x01" },
      },
      postings: [entry.postings[1]!, entry.postings[0]!],
    };
    expect(hashJournalEntry(reordered)).to.equal(hashJournalEntry(entry));
    expect(hashJournalEntry(entry)).to.match(/^0x[0-9a-f]{64}$/);
  });

  it("keeps the v1 encoding every stored chain was written with (a pinned hash)", () => {
    // Computed by the encoding as first released (JSON.stringify of the array with the key-sorted
    // event); a change here would make every stored entry fail verification.
    expect(hashJournalEntry(entry)).to.equal("0xd5ce78d0c2dc4234bc4bf1ea2de876eb3686865bfd405803bf7b81712600cd93");
    expect(canonicalJournalEntry(entry)).to.equal(
      JSON.stringify([
        "stablerail.journal.v1",
        31337,
        "12",
        3,
        entry.blockHash,
        "1700000000",
        entry.transactionHash,
        entry.token,
        "transfer",
        null,
        {
          cause: { args: { a: [2, { y: 2, z: 1 }], b: 1 }, logIndex: 2 },
          transfer: { from: "0x01", to: "0x02", value: "5" },
        },
        [
          [0, "holder:0x01", "holder:0x02", entry.token, "-5", "95", "transfer", "1700000000"],
          [1, "holder:0x02", "holder:0x01", entry.token, "5", "5", "transfer", "1700000000"],
        ],
      ]),
    );
  });

  it("changes the hash when any stored field of the entry or of a posting changes", () => {
    const base = hashJournalEntry(entry);
    const variants: ChainedEntry[] = [
      { ...entry, blockNumber: 13n },
      { ...entry, logIndex: 4 },
      { ...entry, blockHash: `0x${"ac".repeat(32)}` },
      { ...entry, blockTimestamp: 1n },
      { ...entry, transactionHash: `0x${"ce".repeat(32)}` },
      { ...entry, token: "0x0000000000000000000000000000000000000001" },
      { ...entry, kind: "mint" },
      { ...entry, reference: "0x00" },
      { ...entry, event: { ...(entry.event as object), extra: true } },
      { ...entry, postings: [{ ...entry.postings[0]!, amount: -6n }, entry.postings[1]!] },
      { ...entry, postings: [entry.postings[0]!, { ...entry.postings[1]!, balanceAfter: 6n }] },
      { ...entry, postings: [{ ...entry.postings[0]!, account: "holder:0x03" }, entry.postings[1]!] },
      { ...entry, postings: [entry.postings[0]!, { ...entry.postings[1]!, counterparty: "holder:0x03" }] },
    ];
    const hashes = new Set(variants.map((variant) => hashJournalEntry(variant)));
    expect(hashes.size).to.equal(variants.length);
    expect(hashes.has(base)).to.equal(false);
  });

  it("encodes amounts as decimal strings, never numbers", () => {
    const big: ChainedEntry = {
      ...entry,
      postings: [
        { ...entry.postings[0]!, amount: -(2n ** 200n) },
        { ...entry.postings[1]!, amount: 2n ** 200n },
      ],
    };
    expect(canonicalJournalEntry(big)).to.include(`"${(2n ** 200n).toString()}"`);
  });

  it("links each element to its predecessor and its own sequence number", () => {
    const anchor = journalChainAnchor(31337, `0x${"11".repeat(32)}`);
    expect(anchor).to.not.equal(journalChainAnchor(31337, `0x${"12".repeat(32)}`));
    expect(anchor).to.not.equal(journalChainAnchor(1, `0x${"11".repeat(32)}`));
    const content = hashJournalEntry(entry);
    const first = linkJournalChain(anchor, 1n, content);
    expect(linkJournalChain(anchor, 2n, content)).to.not.equal(first);
    expect(linkJournalChain(first, 2n, content)).to.not.equal(first);
    const rollback = hashRollback({
      chainId: 31337,
      ancestorBlock: 10n,
      orphanedCount: 2,
      orphanedFromSeq: 5n,
      orphanedToSeq: 6n,
    });
    expect(rollback).to.not.equal(
      hashRollback({ chainId: 31337, ancestorBlock: 10n, orphanedCount: 1, orphanedFromSeq: 5n, orphanedToSeq: 5n }),
    );
  });
});
