/**
 * Decode stage: raw logs of the indexed contracts → {@link DecodedLog}s with typed args.
 * Input: viem `Log`s plus the timestamp of their block. Output: decoded logs, or nothing for
 * logs of other contracts and events the ABIs do not declare.
 */
import { decodeEventLog, toEventSelector, type Abi, type Address, type Hex, type Log } from "viem";

import { checksumAddress } from "../../lib/ledger/checksum.ts";
import type { DecodedLog, IndexedContractName } from "../../lib/ledger/types.ts";
import { paymentEscrowEventsAbi, settlementEventsAbi, stablecoinEventsAbi } from "./abis.ts";

export type IndexedContracts = Partial<Record<IndexedContractName, Address>>;

export type Decoder = {
  /** Addresses to ask the node for (eth_getLogs `address` filter). */
  readonly addresses: Address[];
  /** Decodes one log; `undefined` when it is not an event the ledger knows. */
  decode: (log: Log, blockTimestamp: bigint) => DecodedLog | undefined;
};

const abis: Record<IndexedContractName, Abi> = {
  Stablecoin: stablecoinEventsAbi,
  PaymentEscrow: paymentEscrowEventsAbi,
  Settlement: settlementEventsAbi,
};

/** `Transfer(address indexed from, address indexed to, uint256 value)`: topic 0 of every token movement. */
const TRANSFER_TOPIC = toEventSelector("Transfer(address,address,uint256)");

/**
 * A Transfer's args read straight from its fixed layout (two address topics, one 32-byte word of
 * data) instead of through the generic ABI decoder, which cost most of the indexer's JavaScript
 * per event (issue 17). The same values, key order and checksums as `decodeEventLog`; anything of
 * another shape (an ERC-721-style Transfer with the value indexed, a malformed log) is left to it.
 */
function decodeTransfer(topics: readonly Hex[], data: Hex): Record<string, unknown> | undefined {
  if (topics.length !== 3 || data.length !== 66 || topics[0]!.toLowerCase() !== TRANSFER_TOPIC) return undefined;
  const from = topics[1]!;
  const to = topics[2]!;
  if (from.length !== 66 || to.length !== 66) return undefined;
  return {
    from: checksumAddress(`0x${from.slice(26)}`),
    to: checksumAddress(`0x${to.slice(26)}`),
    value: BigInt(data),
  };
}

/**
 * Creates the decoder for one chain's deployment.
 * @param parameters.chainId - chain the logs come from
 * @param parameters.contracts - addresses of the contracts to decode (absent ones are ignored)
 */
export function createDecoder({ chainId, contracts }: { chainId: number; contracts: IndexedContracts }): Decoder {
  const byAddress = new Map<string, { contractName: IndexedContractName; address: Address }>();
  for (const [name, address] of Object.entries(contracts)) {
    if (address)
      byAddress.set(address.toLowerCase(), {
        contractName: name as IndexedContractName,
        address: checksumAddress(address),
      });
  }
  return {
    addresses: [...byAddress.values()].map((contract) => contract.address),
    decode: (log, blockTimestamp) => {
      const contract = byAddress.get(log.address.toLowerCase());
      if (
        !contract ||
        log.blockNumber === null ||
        log.logIndex === null ||
        log.transactionHash === null ||
        log.blockHash === null
      ) {
        return undefined;
      }
      const { contractName } = contract;
      let decoded: { eventName: unknown; args: unknown };
      const transfer = contractName === "Stablecoin" ? decodeTransfer(log.topics, log.data) : undefined;
      if (transfer) decoded = { eventName: "Transfer", args: transfer };
      else
        try {
          decoded = decodeEventLog({
            abi: abis[contractName],
            data: log.data,
            topics: log.topics as [`0x${string}`, ...`0x${string}`[]],
            strict: true,
          });
        } catch {
          return undefined;
        }
      return {
        chainId,
        blockNumber: log.blockNumber,
        blockHash: log.blockHash,
        blockTimestamp,
        transactionHash: log.transactionHash,
        logIndex: log.logIndex,
        address: contract.address,
        contractName,
        eventName: String(decoded.eventName),
        args: (decoded.args ?? {}) as Record<string, unknown>,
      };
    },
  };
}
