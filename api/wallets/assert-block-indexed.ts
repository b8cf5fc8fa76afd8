import { getIndexedHead } from "../../lib/ledger/queries/get-indexed-head.ts";
import type { AppServices } from "../dependencies.ts";
import { ConflictError } from "../errors/api-errors.ts";

/**
 * Refuses a read "as of block N" that the ledger cannot answer yet: above the indexed head, the
 * ledger would show today's figures under a future block's name.
 * @throws ConflictError BLOCK_NOT_INDEXED (409; retry once the indexer has reached the block)
 */
export async function assertBlockIndexed(
  services: Pick<AppServices, "database" | "chainId">,
  blockNumber: bigint,
): Promise<void> {
  const head = await getIndexedHead(services.database, { chainId: services.chainId });
  if (head === undefined || blockNumber > head.number) {
    throw new ConflictError(
      "BLOCK_NOT_INDEXED",
      `Block ${blockNumber} is not in the ledger yet (indexed up to ${head?.number ?? "nothing"}); retry later`,
      { details: { block: blockNumber.toString(), indexedHead: head?.number.toString() ?? null } },
    );
  }
}
