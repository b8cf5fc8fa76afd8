import { eq } from "drizzle-orm";

import type { Database } from "../../../lib/db/database.ts";
import { apiUsers } from "../../db/schema.ts";
import { passwordCredentials } from "../../db/security-schema.ts";

/** A custodial user as the sign-up and sign-in answers show it (docs/design/auth.md). */
export type AccountView = {
  id: string;
  role: "user";
  name: string;
  email: string | null;
  tier: string;
  frozen: boolean;
  createdAt: Date;
};

/** Reads a user with the email of its password credential (null for a user made by an admin). */
export async function accountView(database: Database, userId: string): Promise<AccountView> {
  const [row] = await database.db
    .select({
      id: apiUsers.id,
      role: apiUsers.role,
      name: apiUsers.name,
      email: passwordCredentials.email,
      tier: apiUsers.tier,
      frozen: apiUsers.frozen,
      createdAt: apiUsers.createdAt,
    })
    .from(apiUsers)
    .leftJoin(passwordCredentials, eq(passwordCredentials.userId, apiUsers.id))
    .where(eq(apiUsers.id, userId));
  if (!row) throw new Error(`user ${userId} vanished while signing in`);
  return { ...row, role: "user" };
}

/** Emails are compared trimmed and lower-cased (the unique index is on that form). */
export const normaliseEmail = (email: string) => email.trim().toLowerCase();
