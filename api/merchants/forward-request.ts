import { type Address, type Hex, type PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { stablerailForwarderAbi } from "../../lib/chain/abis/stablerailForwarder.ts";
import { forwardRequestTypes } from "../../lib/chain/typed-data.ts";

/** Gas the forwarded escrow call may use (refund or reclaim: a state update and one token transfer). */
export const FORWARDED_ESCROW_CALL_GAS = 300_000n;

export type SignForwardRequestParameters = {
  publicClient: PublicClient;
  chainId: number;
  forwarder: Address;
  privateKey: Hex;
  to: Address;
  data: Hex;
  /** Unix seconds after which the forwarder refuses the request. */
  deadline: number;
};

/**
 * Signs an ERC-2771 forward request with a custodial key (the forwarder's current nonce of the signer),
 * so the relayer pays the gas and the target sees the signer as `_msgSender()`.
 * @returns the `forwarder.execute` relay request input
 */
export async function signForwardRequest(p: SignForwardRequestParameters) {
  const account = privateKeyToAccount(p.privateKey);
  const nonce = await p.publicClient.readContract({
    address: p.forwarder,
    abi: stablerailForwarderAbi,
    functionName: "nonces",
    args: [account.address],
  });
  const message = {
    from: account.address,
    to: p.to,
    value: 0n,
    gas: FORWARDED_ESCROW_CALL_GAS,
    nonce,
    deadline: p.deadline,
    data: p.data,
  };
  const signature = await account.signTypedData({
    domain: { name: "StablerailForwarder", version: "1", chainId: p.chainId, verifyingContract: p.forwarder },
    types: forwardRequestTypes,
    primaryType: "ForwardRequest",
    message,
  });
  return {
    kind: "forwarder.execute" as const,
    request: {
      from: account.address,
      to: p.to,
      value: "0",
      gas: FORWARDED_ESCROW_CALL_GAS.toString(),
      deadline: p.deadline,
      data: p.data,
      signature,
    },
  };
}
