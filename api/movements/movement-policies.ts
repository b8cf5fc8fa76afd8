import type { Address } from "viem";

import { MAX_UINT256 } from "../../lib/money.ts";
import { StablerailError, ValidationError } from "../../lib/errors/base.ts";
import type { TokenReads } from "../chain/token-reads.ts";
import type { MoneyMovementKind } from "./submit-money-movement.ts";
import { PermissionError } from "../errors/api-errors.ts";

/** A money movement as the policy sees it, before anything is recorded or queued. */
export type ProposedMovement = {
  kind: MoneyMovementKind;
  userId: string;
  /** The principal's account is frozen in the API (an operator's decision). */
  userFrozen: boolean;
  from: Address;
  to: Address;
  amount: bigint;
};

/**
 * One rule every money movement must pass. Today: amount bounds, sufficient balance, nothing
 * frozen. The coming risk engine and step-up authentication are further policies in the list.
 * A policy throws a Stablerail error with a stable code to refuse.
 */
export type MoneyMovementPolicy = {
  name: string;
  check: (movement: ProposedMovement) => Promise<void>;
};

export const amountPolicy: MoneyMovementPolicy = {
  name: "amount",
  check: async ({ amount }) => {
    if (amount <= 0n) throw new ValidationError("AMOUNT_INVALID", "The amount must be greater than zero");
    if (amount > MAX_UINT256) throw new ValidationError("AMOUNT_INVALID", "The amount exceeds uint256");
  },
};

/** Neither the account (in the API) nor the sender or recipient (on the token) may be frozen. */
export function frozenPolicy(token: TokenReads): MoneyMovementPolicy {
  return {
    name: "frozen",
    check: async ({ userFrozen, from, to }) => {
      if (userFrozen) throw new PermissionError("ACCOUNT_FROZEN", "This account is frozen; contact support");
      const [fromFrozen, toFrozen] = await Promise.all([token.isFrozen(from), token.isFrozen(to)]);
      if (fromFrozen || toFrozen) {
        throw new PermissionError(
          "ACCOUNT_FROZEN",
          `The ${fromFrozen ? "sender" : "recipient"} address is frozen on the token`,
          {
            details: { address: fromFrozen ? from : to },
          },
        );
      }
    },
  };
}

/**
 * The sender's on-chain balance covers the amount. (The chain, not the ledger, is authoritative
 * here: the ledger may lag by the indexer's confirmations.)
 */
export function balancePolicy(token: TokenReads): MoneyMovementPolicy {
  return {
    name: "balance",
    check: async ({ from, amount }) => {
      const balance = await token.balanceOf(from);
      if (balance < amount) {
        throw new InsufficientBalanceError(from, balance, amount);
      }
    },
  };
}

export class InsufficientBalanceError extends StablerailError {
  override name = "InsufficientBalanceError";
  constructor(account: Address, balance: bigint, needed: bigint) {
    super("INSUFFICIENT_BALANCE", `Balance ${balance} of ${account} is below the ${needed} needed`, {
      details: { account, balance: balance.toString(), needed: needed.toString() },
    });
  }
}

/** Today's checks, in order (cheap first). */
export function defaultMoneyMovementPolicies(token: TokenReads): MoneyMovementPolicy[] {
  return [amountPolicy, frozenPolicy(token), balancePolicy(token)];
}
