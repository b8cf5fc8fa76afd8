import { eq } from "drizzle-orm";

import type { Database } from "../../lib/db/database.ts";
import { NotFoundError } from "../../lib/errors/base.ts";
import { apiUsers } from "../db/schema.ts";
import { PermissionError } from "../errors/api-errors.ts";
import type { Role } from "./credentials.ts";
import { freezeRefusal } from "./freeze-policy.ts";
import type { Principal } from "./principal.ts";

/**
 * Freezes or unfreezes a principal, as the freeze policy allows (api/auth/freeze-policy.ts). The
 * effect is immediate in every API process: each request reads the freeze with its credential.
 * @throws NotFoundError NOT_FOUND, PermissionError FREEZE_NOT_ALLOWED
 */
export async function freezeUser(
  database: Database,
  actor: Principal,
  input: { userId: string; frozen: boolean },
): Promise<typeof apiUsers.$inferSelect> {
  const [target] = await database.db.select().from(apiUsers).where(eq(apiUsers.id, input.userId));
  if (!target) throw new NotFoundError("NOT_FOUND", "No such user");
  const refusal = freezeRefusal(actor, { id: target.id, role: target.role as Role });
  if (refusal) throw new PermissionError("FREEZE_NOT_ALLOWED", refusal);
  const [row] = await database.db
    .update(apiUsers)
    .set({ frozen: input.frozen })
    .where(eq(apiUsers.id, target.id))
    .returning();
  return row!;
}
