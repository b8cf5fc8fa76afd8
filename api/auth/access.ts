import { NotFoundError } from "../../lib/errors/base.ts";
import { AuthenticationError, PermissionError } from "../errors/api-errors.ts";
import { readsEverything, type Principal } from "./principal.ts";

/**
 * Throws unless `principal` owns the resource, or is staff allowed to see it (`write`: only the
 * owner may move its money). A stranger gets 404 (not 403) so resource ids cannot be probed.
 * @throws AuthenticationError UNAUTHENTICATED, PermissionError FORBIDDEN (staff writing), NotFoundError NOT_FOUND
 */
export function assertOwner(
  principal: Principal | undefined,
  ownerUserId: string,
  { write = false }: { write?: boolean } = {},
): asserts principal is Principal {
  if (!principal)
    throw new AuthenticationError("UNAUTHENTICATED", "Send Authorization: Bearer <API key or session token>");
  if (principal.userId === ownerUserId) return;
  if (!write && readsEverything(principal.role)) return;
  if (write && (principal.role === "admin" || principal.role === "operator")) {
    throw new PermissionError("FORBIDDEN", "Staff may not move a user's funds; the owner must");
  }
  throw new NotFoundError("NOT_FOUND", "No such resource");
}
