/**
 * The chain's side of completeness: every log of Stablerail's contracts in a block range, fetched
 * with eth_getLogs over ranges that halve when the node refuses one, and decoded with the contracts'
 * generated ABIs (lib/chain/abis) — not with the indexer's decoder, so a decoding fault in the
 * indexer cannot hide itself. Input: a public client, the contract addresses, a range. Output:
 * decoded logs in chain order (unknown events are dropped: no contract of ours emits them).
 */
import { decodeEventLog, getAddress, type Abi, type Address, type Log, type PublicClient } from "viem";

import { paymentEscrowAbi } from "../../lib/chain/abis/paymentEscrow.ts";
import { settlementAbi } from "../../lib/chain/abis/settlement.ts";
import { stablecoinAbi } from "../../lib/chain/abis/stablecoin.ts";
import { UnavailableError } from "../../lib/errors/base.ts";
import type { DecodedLog, IndexedContractName } from "../../lib/ledger/types.ts";

export type AuditedContracts = { token: Address; escrow?: Address | undefined; settlement?: Address | undefined };

const abis: Record<IndexedContractName, Abi> = {
  Stablecoin: stablecoinAbi as Abi,
  PaymentEscrow: paymentEscrowAbi as Abi,
  Settlement: settlementAbi as Abi,
};

/**
 * Yields the decoded logs of `from..to` in windows of consecutive blocks (each window whole blocks, in chain order).
 * @param parameters.initialRange - blocks per eth_getLogs to start with (halved on refusal, doubled while responses stay small)
 */
export async function* chainLogWindows(
  client: PublicClient,
  {
    chainId,
    contracts,
    from,
    to,
    initialRange = 2_000,
    targetLogs = 10_000,
  }: {
    chainId: number;
    contracts: AuditedContracts;
    from: bigint;
    to: bigint;
    initialRange?: number;
    targetLogs?: number;
  },
): AsyncGenerator<{ from: bigint; to: bigint; logs: DecodedLog[] }> {
  const byAddress = new Map<string, IndexedContractName>([[contracts.token.toLowerCase(), "Stablecoin"]]);
  if (contracts.escrow) byAddress.set(contracts.escrow.toLowerCase(), "PaymentEscrow");
  if (contracts.settlement) byAddress.set(contracts.settlement.toLowerCase(), "Settlement");
  const addresses = [...byAddress.keys()].map((address) => getAddress(address));
  let range = BigInt(initialRange);
  let cursor = from;
  while (cursor <= to) {
    const end = cursor + range - 1n > to ? to : cursor + range - 1n;
    let raw: Log[];
    try {
      raw = await client.getLogs({ address: addresses, fromBlock: cursor, toBlock: end });
    } catch (error) {
      if (end > cursor) {
        range = (end - cursor + 1n) / 2n || 1n;
        continue;
      }
      throw new UnavailableError(
        "AUDIT_GET_LOGS_FAILED",
        `eth_getLogs ${cursor}..${end} failed: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    if (raw.length < targetLogs / 2) range *= 2n;
    else if (raw.length > targetLogs * 2 && range > 1n) range /= 2n;
    const logs: DecodedLog[] = [];
    for (const log of raw) {
      const decoded = decodeLog(chainId, byAddress, log);
      if (decoded) logs.push(decoded);
    }
    logs.sort((a, b) =>
      a.blockNumber === b.blockNumber ? a.logIndex - b.logIndex : a.blockNumber < b.blockNumber ? -1 : 1,
    );
    yield { from: cursor, to: end, logs };
    cursor = end + 1n;
  }
}

/** Decodes one raw log of our contracts (block timestamp unknown here: 0). */
export function decodeLog(
  chainId: number,
  byAddress: Map<string, IndexedContractName>,
  log: Log,
): DecodedLog | undefined {
  const contractName = byAddress.get(log.address.toLowerCase());
  if (!contractName || log.blockNumber === null || log.logIndex === null || !log.transactionHash || !log.blockHash)
    return undefined;
  try {
    const decoded = decodeEventLog({
      abi: abis[contractName],
      data: log.data,
      topics: log.topics as [`0x${string}`, ...`0x${string}`[]],
      strict: true,
    });
    return {
      chainId,
      blockNumber: log.blockNumber,
      blockHash: log.blockHash,
      blockTimestamp: 0n,
      transactionHash: log.transactionHash,
      logIndex: log.logIndex,
      address: getAddress(log.address),
      contractName,
      eventName: String(decoded.eventName),
      args: (decoded.args ?? {}) as Record<string, unknown>,
    };
  } catch {
    return undefined;
  }
}

/** Address → contract name for {@link decodeLog}. */
export function contractsByAddress(contracts: AuditedContracts): Map<string, IndexedContractName> {
  const map = new Map<string, IndexedContractName>([[contracts.token.toLowerCase(), "Stablecoin"]]);
  if (contracts.escrow) map.set(contracts.escrow.toLowerCase(), "PaymentEscrow");
  if (contracts.settlement) map.set(contracts.settlement.toLowerCase(), "Settlement");
  return map;
}
