import type { Address, Hex } from "viem";

import { randomAuthorizationNonce, type Eip3009Authorization } from "../../lib/signing/eip3009-fields.ts";
import { signTransferWithAuthorization } from "../../lib/signing/transfer-with-authorization.ts";
import type { Principal } from "../auth/principal.ts";
import type { AppServices } from "../dependencies.ts";
import { checkTransferAuthorization } from "../movements/check-authorization.ts";
import { submitMoneyMovement, type MoneyMovement } from "../movements/submit-money-movement.ts";
import type { TravelRuleInput } from "../risk/travel-rule.ts";
import { loadOwnedWallet } from "./load-owned-wallet.ts";
import { walletSigner } from "./wallet-signer.ts";

/** A self-custody holder's signed authorization (the typed data of GET …/transfers/typed-data). */
export type SignedTransfer = { authorization: Omit<Eip3009Authorization, "from">; signature: Hex };

export type SubmitTransferInput = {
  principal: Principal;
  walletId: string;
  to: Address;
  amount: bigint;
  /** Self-custody wallets only; custodial wallets are signed here. */
  signed?: SignedTransfer | undefined;
  idempotencyKey: string;
  /** Originator and beneficiary, required above the travel-rule threshold to an address off the platform. */
  travelRule?: TravelRuleInput | undefined;
};

/**
 * Sends `amount` from the principal's wallet to `to` through the money door as an EIP-3009
 * TransferWithAuthorization the relayer submits (the holder pays no gas): signed here with the
 * custodial wallet's signer — after the door's policies passed — or signed by a self-custody holder
 * and checked (signer, window, nonce unused on chain and in the queue) before anything is queued.
 * @throws WALLET_NOT_FOUND, WALLET_IS_CUSTODIAL / SIGNATURE_REQUIRED, the door's and the signature checks' errors
 */
export async function submitTransfer(services: AppServices, input: SubmitTransferInput): Promise<MoneyMovement> {
  const wallet = await loadOwnedWallet(services.database, input.principal, input.walletId, { write: true });
  const from = wallet.address as Address;
  const signer = walletSigner(services, wallet, input.signed !== undefined, {
    custodial: "send only {to, amount}",
    selfCustody: "sign the typed data from GET …/transfers/typed-data and send it",
  });
  const token = services.contracts.stablecoin;
  return submitMoneyMovement(services, {
    kind: "transfer",
    userId: wallet.userId,
    walletId: wallet.id,
    token,
    from,
    to: input.to,
    amount: input.amount,
    idempotencyKey: input.idempotencyKey,
    // A self-custody holder signed its deadline already: a step-up approval names it.
    deadline: input.signed?.authorization.validBefore,
    travelRule: input.travelRule,
    prepare: async () => {
      let authorization: Eip3009Authorization;
      let signature: Hex;
      if (signer) {
        const now = await services.tokenReads.chainTime();
        authorization = {
          from,
          to: input.to,
          value: input.amount,
          validAfter: 0n,
          validBefore: now + BigInt(services.settings.authorizationTtlSeconds),
          nonce: randomAuthorizationNonce(),
        };
        signature = await signTransferWithAuthorization(signer, await services.tokenReads.domain(), authorization);
        // Nothing to check: the wallet's own signer signed (custody refuses a key that is not the
        // wallet's), a window opening now, and a fresh random 32-byte nonce neither the chain nor a
        // queued movement can know — recovering the signature and reading the nonce would cost more
        // than the signing itself and could not fail.
      } else {
        authorization = { ...input.signed!.authorization, from };
        signature = input.signed!.signature;
        await checkTransferAuthorization(services, authorization, signature);
      }
      return {
        request: {
          kind: "token.transferWithAuthorization" as const,
          token,
          from: authorization.from,
          to: authorization.to,
          value: authorization.value.toString(),
          validAfter: authorization.validAfter.toString(),
          validBefore: authorization.validBefore.toString(),
          nonce: authorization.nonce,
          signature,
        },
        reference: authorization.nonce,
        deadline: new Date(Number(authorization.validBefore) * 1000),
        details: {
          validAfter: authorization.validAfter.toString(),
          validBefore: authorization.validBefore.toString(),
        },
      };
    },
  });
}
