import { eq } from "drizzle-orm";

import type { Database } from "../../lib/db/database.ts";
import { readsEverything, type Principal } from "../auth/principal.ts";
import { paymentRequests } from "../db/schema.ts";
import { AuthenticationError } from "../errors/api-errors.ts";
import { PaymentRequestNotFoundError } from "./errors.ts";
import type { StoredPaymentTerms } from "./payment-terms.ts";

export type PaymentRequestRow = typeof paymentRequests.$inferSelect & { terms: StoredPaymentTerms };

/**
 * Loads a payment request for `principal`:
 * - `merchant`: its merchant only (another merchant gets 404, as if it did not exist);
 * - `payer`: any payer may read and pay an open request (the merchant shares its id as a payment
 *   link); once paid, only its payer;
 * - `read`: also staff (operator, auditor, admin) and the payer.
 */
export async function loadPaymentRequest(
  database: Database,
  principal: Principal | undefined,
  id: string,
  access: "merchant" | "payer" | "read",
): Promise<PaymentRequestRow> {
  if (!principal)
    throw new AuthenticationError("UNAUTHENTICATED", "Send Authorization: Bearer <API key or session token>");
  const [row] = await database.db.select().from(paymentRequests).where(eq(paymentRequests.id, id));
  if (!row) throw new PaymentRequestNotFoundError();
  const isMerchant = row.merchantUserId === principal.userId;
  const isPayer = row.payerUserId === principal.userId;
  const openToPayers = principal.role === "user" && row.status === "open";
  const allowed =
    access === "merchant"
      ? isMerchant
      : access === "payer"
        ? principal.role === "user" && (isPayer || row.status === "open")
        : isMerchant || isPayer || openToPayers || readsEverything(principal.role);
  if (!allowed) throw new PaymentRequestNotFoundError();
  return row as PaymentRequestRow;
}
