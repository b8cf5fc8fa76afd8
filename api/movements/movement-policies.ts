import { getAddress, zeroAddress, type Address } from "viem";

import type { ContractAddresses } from "../../lib/chain/contracts.ts";
import { MAX_UINT256 } from "../../lib/money.ts";
import { StablerailError, UnavailableError, ValidationError } from "../../lib/errors/base.ts";
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
  /** Addresses the caller chose to pay beyond `to` (a payout's items); none when absent. */
  payees?: readonly Address[] | undefined;
  amount: bigint;
  /** Funds of the sender's other accepted movements not yet on chain (available-balance.ts); 0 when absent. */
  reserved?: bigint | undefined;
};

/**
 * One rule every money movement must pass. Today: amount bounds, a recipient that can receive,
 * nothing paused or frozen, sufficient balance. The coming risk engine and step-up authentication
 * are further policies in the list.
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

/** A recipient the caller chose that the chain would refuse, or that would strand the funds. */
export class RecipientInvalidError extends StablerailError {
  override name = "RecipientInvalidError";
  constructor(address: Address, why: string) {
    super("RECIPIENT_INVALID", `${address} cannot receive this movement: ${why}`, { details: { address } });
  }
}

/**
 * A transfer's recipient and a payout's payees are the caller's choice: refuse the zero address (the
 * token reverts, and the relayer would pay gas for a revert a user can repeat at will) and the
 * platform's own contracts (the token accepts them, and the funds are stuck for good). Movements
 * whose parties the API fixes itself (escrow steps) pass.
 */
export function recipientPolicy(contracts: ContractAddresses): MoneyMovementPolicy {
  const platform = new Map<string, string>([
    [getAddress(contracts.stablecoin), "the token contract itself"],
    [getAddress(contracts.paymentEscrow), "the escrow (pay a payment request instead)"],
    [getAddress(contracts.settlement), "the settlement contract"],
    [getAddress(contracts.forwarder), "the forwarder"],
  ]);
  return {
    name: "recipient",
    check: async ({ kind, to, payees = [] }) => {
      const chosen = kind === "transfer" ? [to, ...payees] : payees;
      for (const address of chosen) {
        if (getAddress(address) === zeroAddress) throw new RecipientInvalidError(address, "the zero address");
        const contract = platform.get(getAddress(address));
        if (contract) throw new RecipientInvalidError(address, contract);
      }
    },
  };
}

/** Nothing moves while the token is paused: refused here rather than reverted on chain. */
export function pausedPolicy(token: TokenReads): MoneyMovementPolicy {
  return {
    name: "paused",
    check: async () => {
      if (await token.isPaused())
        throw new UnavailableError("TOKEN_PAUSED", "The token is paused: no movement can settle; retry later");
    },
  };
}

/** Neither the account (in the API) nor the sender, the recipient or a payee (on the token) may be frozen. */
export function frozenPolicy(token: TokenReads): MoneyMovementPolicy {
  return {
    name: "frozen",
    check: async ({ userFrozen, from, to, payees = [] }) => {
      if (userFrozen) throw new PermissionError("ACCOUNT_FROZEN", "This account is frozen; contact support");
      const parties = [from, to, ...payees];
      const frozen = await Promise.all(parties.map((address) => token.isFrozen(address)));
      const index = frozen.indexOf(true);
      if (index >= 0) {
        const role = index === 0 ? "sender" : index === 1 ? "recipient" : `payee ${index - 2}`;
        throw new PermissionError("ACCOUNT_FROZEN", `The ${role} address is frozen on the token`, {
          details: { address: parties[index], ...(index >= 2 ? { index: index - 2 } : {}) },
        });
      }
    },
  };
}

/**
 * The sender's available balance — on chain, less what its accepted movements not yet on chain
 * reserve — covers the amount. (The chain, not the ledger, is authoritative here: the ledger may
 * lag by the indexer's confirmations.)
 */
export function balancePolicy(token: TokenReads): MoneyMovementPolicy {
  return {
    name: "balance",
    check: async ({ from, amount, reserved = 0n }) => {
      const balance = await token.balanceOf(from);
      if (balance - reserved < amount) {
        throw new InsufficientBalanceError(from, balance, amount, reserved);
      }
    },
  };
}

export class InsufficientBalanceError extends StablerailError {
  override name = "InsufficientBalanceError";
  constructor(account: Address, balance: bigint, needed: bigint, reserved = 0n) {
    super(
      "INSUFFICIENT_BALANCE",
      reserved > 0n
        ? `Balance ${balance} of ${account}, of which ${reserved} is reserved by movements not yet on chain, is below the ${needed} needed`
        : `Balance ${balance} of ${account} is below the ${needed} needed`,
      {
        details: {
          account,
          balance: balance.toString(),
          reserved: reserved.toString(),
          needed: needed.toString(),
        },
      },
    );
  }
}

/** Today's checks, in order (cheap first). */
export function defaultMoneyMovementPolicies(token: TokenReads, contracts: ContractAddresses): MoneyMovementPolicy[] {
  return [amountPolicy, recipientPolicy(contracts), pausedPolicy(token), frozenPolicy(token), balancePolicy(token)];
}
