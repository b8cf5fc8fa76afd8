import type { Role } from "./credentials.ts";

/**
 * Who may freeze (or unfreeze) whom — pure, so the rule reads in one place:
 * - nobody acts on itself (a frozen principal could otherwise unfreeze itself, a lone admin lock itself out);
 * - an operator acts on users and merchants only — never on staff (operators, auditors, admins);
 * - an admin acts on anyone else;
 * - other roles never (the route admits operators and admins only).
 * A frozen actor is stopped before this rule (plugins/access.ts: a freeze stops every write).
 *
 * What a freeze stops: every write of the frozen principal — money movements (the money door checks
 * again), new API keys, sessions (also by SIWE), wallets, payment requests, webhook endpoints, users —
 * except revoking its own keys and sessions. Reads go on.
 * @returns why the freeze is refused, or undefined when it is allowed
 */
export function freezeRefusal(actor: { userId: string; role: Role }, target: { id: string; role: Role }) {
  if (actor.userId === target.id) return "No principal may freeze or unfreeze itself";
  if (actor.role === "admin") return undefined;
  if (actor.role === "operator") {
    return target.role === "user" || target.role === "merchant"
      ? undefined
      : `An operator may freeze users and merchants only, not a principal with role ${target.role}`;
  }
  return `A principal with role ${actor.role} may not freeze anyone`;
}
