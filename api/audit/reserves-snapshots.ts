/**
 * The proofs of reserves the API has published: an auditor's `POST /v1/audit/reserves` builds the
 * liabilities tree at a block (auditor/index.ts) and keeps it here, so each custodial user fetches
 * their inclusion proof against exactly that published root (`GET /v1/reserves/proof`). Kept in
 * memory, one per database, latest only: the tree is rebuilt deterministically from the ledger at
 * the same block, so after a restart (or in another API process) the auditor publishes again —
 * the root is the same for the same block.
 */
import { buildReserves, CANONICAL_MULTICALL3, type ReservesSnapshot } from "../../auditor/index.ts";
import type { AppServices } from "../dependencies.ts";
import { withChain } from "./chain-unavailable.ts";

const published = new WeakMap<object, ReservesSnapshot>();

/**
 * Builds the reserves snapshot at `block` (default the indexed head) without publishing it.
 * @throws UnavailableError CHAIN_UNAVAILABLE when the node does not answer
 */
export function buildReservesSnapshot(services: AppServices, block?: bigint): Promise<ReservesSnapshot> {
  return withChain(() =>
    buildReserves(services.database, services.publicClient, {
      chainId: services.chainId,
      token: services.contracts.stablecoin,
      block,
      multicall3: CANONICAL_MULTICALL3,
    }),
  );
}

/**
 * Builds the reserves snapshot at `block` (default the indexed head) and publishes it.
 * @returns the snapshot, now the one users' proofs come from
 */
export async function publishReserves(services: AppServices, block?: bigint): Promise<ReservesSnapshot> {
  const snapshot = await buildReservesSnapshot(services, block);
  published.set(services.database, snapshot);
  return snapshot;
}

/** The snapshot last published (undefined before the first). */
export function publishedReserves(services: AppServices): ReservesSnapshot | undefined {
  return published.get(services.database);
}
