import type { Address, Hex, PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { stablecoinAbi } from "../../lib/chain/abis/stablecoin.ts";
import { permitTypes } from "../../lib/chain/typed-data.ts";
import type { TokenDomain } from "../wallets/transfer-authorization.ts";

export type SignPermitParameters = {
  publicClient: PublicClient;
  domain: TokenDomain;
  privateKey: Hex;
  spender: Address;
  value: bigint;
  deadline: bigint;
};

/**
 * Signs an EIP-2612 permit with a custodial key (the token's current nonce of the owner).
 * @returns the `token.permit` relay request input
 */
export async function signPermit(p: SignPermitParameters) {
  const account = privateKeyToAccount(p.privateKey);
  const token = p.domain.verifyingContract;
  const nonce = await p.publicClient.readContract({
    address: token,
    abi: stablecoinAbi,
    functionName: "nonces",
    args: [account.address],
  });
  const signature = await account.signTypedData({
    domain: p.domain,
    types: permitTypes,
    primaryType: "Permit",
    message: { owner: account.address, spender: p.spender, value: p.value, nonce, deadline: p.deadline },
  });
  return {
    kind: "token.permit" as const,
    token,
    owner: account.address,
    spender: p.spender,
    value: p.value.toString(),
    deadline: p.deadline.toString(),
    signature,
  };
}
