import { expect } from "chai";
import fc from "fast-check";
import { decodeEventLog, encodeEventTopics, padHex, toHex, type Address, type Hex, type Log } from "viem";

import { stablecoinEventsAbi } from "../../indexer/decode/abis.ts";
import { createDecoder } from "../../indexer/decode/decode-log.ts";

const token = "0x5fbdb2315678afecb367f032d93f642f64180aa3" as Address;
const decoder = createDecoder({ chainId: 31337, contracts: { Stablecoin: token } });

function logOf(topics: Hex[], data: Hex): Log {
  return {
    address: token,
    blockHash: padHex("0xb1", { size: 32 }),
    blockNumber: 7n,
    data,
    logIndex: 3,
    removed: false,
    transactionHash: padHex("0x7a", { size: 32 }),
    transactionIndex: 0,
    topics: topics as [Hex, ...Hex[]],
  } as Log;
}

describe("Decoder of the Stablecoin's logs", () => {
  it("decodes a Transfer from its fixed layout to exactly what viem's decodeEventLog gives (args, key order, checksums)", () => {
    const seed = Date.now() % 2 ** 31;
    process.stdout.write(`      (fast-check seed ${seed})\n`);
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 20, maxLength: 20 }),
        fc.uint8Array({ minLength: 20, maxLength: 20 }),
        fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }),
        (fromBytes, toBytes, value) => {
          const topics = encodeEventTopics({
            abi: stablecoinEventsAbi,
            eventName: "Transfer",
            args: { from: toHex(fromBytes), to: toHex(toBytes) },
          }) as Hex[];
          const data = padHex(toHex(value), { size: 32 });
          const expected = decodeEventLog({ abi: stablecoinEventsAbi, topics: topics as [Hex], data, strict: true });
          const decoded = decoder.decode(logOf(topics, data), 1_700_000_000n)!;
          expect(decoded.eventName).to.equal("Transfer");
          expect(Object.keys(decoded.args)).to.deep.equal(Object.keys(expected.args as object));
          expect(decoded.args).to.deep.equal(expected.args);
          expect(decoded.address).to.equal("0x5FbDB2315678afecb367f032d93F642f64180aa3");
        },
      ),
      { seed, numRuns: 300 },
    );
  });

  it("leaves a Transfer of another shape to the ABI decoder (value indexed: not this token's event)", () => {
    const topics = encodeEventTopics({
      abi: stablecoinEventsAbi,
      eventName: "Transfer",
      args: { from: padHex("0x1", { size: 20 }), to: padHex("0x2", { size: 20 }) },
    }) as Hex[];
    expect(decoder.decode(logOf([...topics, padHex("0x5", { size: 32 })], "0x"), 1n)).to.equal(undefined);
    expect(decoder.decode(logOf(topics, "0x01"), 1n)).to.equal(undefined);
  });
});
