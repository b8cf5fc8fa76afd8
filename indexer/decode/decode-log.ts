/**
 * Decode stage: raw logs of the indexed contracts → {@link DecodedLog}s with typed args.
 * Input: viem `Log`s plus the timestamp of their block. Output: decoded logs, or nothing for
 * logs of other contracts and events the ABIs do not declare.
 */
import { decodeEventLog, getAddress, type Abi, type Address, type Log } from "viem";

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

/**
 * Creates the decoder for one chain's deployment.
 * @param parameters.chainId - chain the logs come from
 * @param parameters.contracts - addresses of the contracts to decode (absent ones are ignored)
 */
export function createDecoder({ chainId, contracts }: { chainId: number; contracts: IndexedContracts }): Decoder {
  const byAddress = new Map<string, IndexedContractName>();
  for (const [name, address] of Object.entries(contracts)) {
    if (address) byAddress.set(address.toLowerCase(), name as IndexedContractName);
  }
  return {
    addresses: [...byAddress.keys()].map((address) => getAddress(address)),
    decode: (log, blockTimestamp) => {
      const contractName = byAddress.get(log.address.toLowerCase());
      if (
        !contractName ||
        log.blockNumber === null ||
        log.logIndex === null ||
        log.transactionHash === null ||
        log.blockHash === null
      ) {
        return undefined;
      }
      let decoded;
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
        address: getAddress(log.address),
        contractName,
        eventName: String(decoded.eventName),
        args: (decoded.args ?? {}) as Record<string, unknown>,
      };
    },
  };
}
