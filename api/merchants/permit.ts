import type { Address, Hex, PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";

import { stablecoinAbi } from "../../lib/chain/abis/stablecoin.ts";
import { permitTypes } from "../../lib/chain/typed-data.ts";
import { StablerailError } from "../../lib/errors/base.ts";
import { assertSignedBy } from "../money/assert-signed-by.ts";
import type { TokenDomain } from "../wallets/transfer-authorization.ts";

export type PermitParameters = {
  publicClient: PublicClient;
  domain: TokenDomain;
  owner: Address;
  spender: Address;
  value: bigint;
  deadline: bigint;
};

/** The EIP-2612 permit `owner` signs (the token's current nonce of the owner). */
export async function permitTypedData(p: PermitParameters) {
  const nonce = await p.publicClient.readContract({
    address: p.domain.verifyingContract,
    abi: stablecoinAbi,
    functionName: "nonces",
    args: [p.owner],
  });
  return {
    domain: p.domain,
    types: permitTypes,
    primaryType: "Permit" as const,
    message: { owner: p.owner, spender: p.spender, value: p.value, nonce, deadline: p.deadline },
  };
}

/** The `token.permit` relay request input of a signed permit. */
function permitRelayRequest({ domain, message }: Awaited<ReturnType<typeof permitTypedData>>, signature: Hex) {
  return {
    kind: "token.permit" as const,
    token: domain.verifyingContract,
    owner: message.owner,
    spender: message.spender,
    value: message.value.toString(),
    deadline: message.deadline.toString(),
    signature,
  };
}

/** Signs the permit with a custodial key. @returns the `token.permit` relay request input */
export async function signPermit(p: Omit<PermitParameters, "owner"> & { privateKey: Hex }) {
  const account = privateKeyToAccount(p.privateKey);
  const typedData = await permitTypedData({ ...p, owner: account.address });
  return permitRelayRequest(typedData, await account.signTypedData(typedData));
}

/**
 * Checks a self-custody wallet's signature of the permit rebuilt here (the token's current nonce):
 * PERMIT_EXPIRED (deadline not after chain time), SIGNATURE_INVALID, SIGNER_MISMATCH.
 * @returns the `token.permit` relay request input
 */
export async function verifyPermit(p: PermitParameters & { signature: Hex; chainTime: bigint }) {
  if (p.deadline <= p.chainTime) {
    throw new StablerailError(
      "PERMIT_EXPIRED",
      `The permit's deadline ${p.deadline} is not after chain time ${p.chainTime}; sign new typed data`,
    );
  }
  const typedData = await permitTypedData(p);
  await assertSignedBy(typedData, p.signature, p.owner, "permit");
  return permitRelayRequest(typedData, p.signature);
}
