import { getIndexedHead } from "../../lib/ledger/queries/get-indexed-head.ts";
import type { AppServices } from "../dependencies.ts";
import { movementState, type MovementState } from "./movement-state.ts";
import type { MoneyMovement } from "./submit-money-movement.ts";

/** A recorded movement with where it stands (movementState) and its transaction once sent. */
export type DescribedMovement = Omit<MoneyMovement, "status"> & {
  status: MovementState;
  transactionHash: string | null;
};

/**
 * Adds each movement's state and transaction hash: one read of their relays and one of the indexed
 * head, whatever the number of movements. Reads only.
 */
export async function describeMovements(
  services: Pick<AppServices, "database" | "relay" | "chainId">,
  movements: readonly MoneyMovement[],
): Promise<DescribedMovement[]> {
  if (movements.length === 0) return [];
  const relayIds = movements.flatMap((m) => (m.relayId ? [m.relayId] : []));
  const [relays, head] = await Promise.all([
    services.relay.getRelays(relayIds),
    getIndexedHead(services.database, { chainId: services.chainId }),
  ]);
  return movements.map((movement) => {
    const relay = movement.relayId ? relays.get(movement.relayId) : undefined;
    return {
      ...movement,
      status: movementState(movement.status, relay, head?.number),
      transactionHash: relay?.transactionHash ?? null,
    };
  });
}
