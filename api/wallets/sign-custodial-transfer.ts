import type { Address } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import type { TokenReads } from "../chain/token-reads.ts";
import { decryptPrivateKey } from "./key-encryption.ts";
import {
  randomAuthorizationNonce,
  transferAuthorizationTypedData,
  type SignedTransfer,
  type TransferAuthorization,
} from "./transfer-authorization.ts";

export type SignCustodialTransferParameters = {
  kek: Buffer;
  walletId: string;
  encryptedKey: string;
  to: Address;
  value: bigint;
  /** Seconds from chain time until the authorization expires (API_AUTHORIZATION_TTL_SECONDS). */
  ttlSeconds: number;
};

/**
 * Signs an EIP-3009 TransferWithAuthorization with a custodial wallet's key (random 32-byte
 * nonce, valid from now for the TTL), so the relayer pays the gas and the user never holds any.
 * @returns the authorization and its 65-byte signature
 */
export async function signCustodialTransfer(
  token: TokenReads,
  p: SignCustodialTransferParameters,
): Promise<SignedTransfer> {
  const account = privateKeyToAccount(decryptPrivateKey(p.kek, p.walletId, p.encryptedKey));
  const now = await token.chainTime();
  const authorization: TransferAuthorization = {
    from: account.address,
    to: p.to,
    value: p.value,
    validAfter: 0n,
    validBefore: now + BigInt(p.ttlSeconds),
    nonce: randomAuthorizationNonce(),
  };
  const signature = await account.signTypedData(transferAuthorizationTypedData(await token.domain(), authorization));
  return { authorization, signature };
}
