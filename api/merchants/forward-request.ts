import type { Address, Hex, PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { stablerailForwarderAbi } from "../../lib/chain/abis/stablerailForwarder.ts";
import { forwardRequestTypes } from "../../lib/chain/typed-data.ts";
import { StablerailError } from "../../lib/errors/base.ts";
import { assertSignedBy } from "../money/assert-signed-by.ts";

/** Gas the forwarded escrow call may use (refund or reclaim: a state update and one token transfer). */
export const FORWARDED_ESCROW_CALL_GAS = 300_000n;

export type ForwardRequestParameters = {
  publicClient: PublicClient;
  chainId: number;
  forwarder: Address;
  /** The signer: the forwarded call's `_msgSender()`. */
  from: Address;
  to: Address;
  data: Hex;
  /** Unix seconds after which the forwarder refuses the request. */
  deadline: number;
};

/**
 * The ERC-2771 forward request `from` signs so the relayer pays the gas and the target sees `from`
 * as the sender: the forwarder's current nonce of `from`, no value, a fixed gas allowance. What
 * GET …/typed-data returns to a self-custody wallet, and what the service signs for a custodial one.
 */
export async function forwardRequestTypedData(p: ForwardRequestParameters) {
  const nonce = await p.publicClient.readContract({
    address: p.forwarder,
    abi: stablerailForwarderAbi,
    functionName: "nonces",
    args: [p.from],
  });
  return {
    domain: { name: "StablerailForwarder", version: "1", chainId: p.chainId, verifyingContract: p.forwarder },
    types: forwardRequestTypes,
    primaryType: "ForwardRequest" as const,
    message: {
      from: p.from,
      to: p.to,
      value: 0n,
      gas: FORWARDED_ESCROW_CALL_GAS,
      nonce,
      deadline: p.deadline,
      data: p.data,
    },
  };
}

type ForwardTypedData = Awaited<ReturnType<typeof forwardRequestTypedData>>;

/** The `forwarder.execute` relay request input of a signed forward request. */
function forwardRelayRequest({ message }: ForwardTypedData, signature: Hex) {
  return {
    kind: "forwarder.execute" as const,
    request: {
      from: message.from,
      to: message.to,
      value: message.value.toString(),
      gas: message.gas.toString(),
      deadline: message.deadline,
      data: message.data,
      signature,
    },
  };
}

/** Signs the forward request with a custodial key. @returns the `forwarder.execute` relay request input */
export async function signForwardRequest(p: Omit<ForwardRequestParameters, "from"> & { privateKey: Hex }) {
  const account = privateKeyToAccount(p.privateKey);
  const typedData = await forwardRequestTypedData({ ...p, from: account.address });
  return forwardRelayRequest(typedData, await account.signTypedData(typedData));
}

/**
 * Checks a self-custody wallet's signature of the forward request rebuilt here (same call, the
 * forwarder's current nonce, the deadline it signed), before anything is queued:
 * SIGNATURE_INVALID, SIGNER_MISMATCH (another key, or a request other than this one — e.g. an old
 * nonce), FORWARD_REQUEST_EXPIRED (deadline not after chain time).
 * @returns the `forwarder.execute` relay request input
 */
export async function verifyForwardRequest(p: ForwardRequestParameters & { signature: Hex; chainTime: bigint }) {
  if (BigInt(p.deadline) <= p.chainTime) {
    throw new StablerailError(
      "FORWARD_REQUEST_EXPIRED",
      `The request's deadline ${p.deadline} is not after chain time ${p.chainTime}; sign new typed data`,
    );
  }
  const typedData = await forwardRequestTypedData(p);
  await assertSignedBy(typedData, p.signature, p.from, "forward request");
  return forwardRelayRequest(typedData, p.signature);
}
