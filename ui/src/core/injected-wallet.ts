/**
 * The self-custody side: an injected EIP-1193 wallet (window.ethereum) through viem's wallet
 * client. Loaded on demand (dynamic import), so custodial users never download viem.
 *
 * - connect: eth_requestAccounts, and the chain it is on;
 * - Sign-In with Ethereum: the EIP-4361 message built by viem from the API's nonce, domain, URI and
 *   chain id (GET /v1/auth/siwe/nonce), signed with personal_sign;
 * - typed data: the EIP-712 data the API returned, signed with eth_signTypedData_v4 exactly as
 *   shown to the person (the uint256 fields as bigint, never through a float).
 */
import { createWalletClient, custom, getAddress, type Address, type EIP1193Provider, type Hex } from "viem";
import { createSiweMessage } from "viem/siwe";

import { ApiError } from "../http/client.ts";
import type { TypedData } from "../http/types.ts";

declare global {
  interface Window {
    ethereum?: EIP1193Provider;
  }
}

function provider(): EIP1193Provider {
  if (!window.ethereum) throw new ApiError("NO_INJECTED_WALLET", "No EIP-1193 provider (window.ethereum)", 0);
  return window.ethereum;
}

/** A wallet refusing (EIP-1193 code 4001) becomes WALLET_REJECTED; other failures keep their message. */
async function walletCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof ApiError) throw error;
    const walk = (e: unknown): number | undefined =>
      e && typeof e === "object"
        ? (e as { code?: number }).code === 4001
          ? 4001
          : walk((e as { cause?: unknown }).cause)
        : undefined;
    if (walk(error) === 4001) throw new ApiError("WALLET_REJECTED", "You declined the request in your wallet", 0);
    throw new ApiError("WALLET_ERROR", (error as Error).message?.split("\n")[0] ?? "The wallet failed", 0);
  }
}

export const hasInjectedWallet = () => typeof window.ethereum?.request === "function";

/** Asks the wallet for its account. */
export async function connectWallet(): Promise<Address> {
  const client = createWalletClient({ transport: custom(provider()) });
  const [account] = await walletCall(() => client.requestAddresses());
  if (!account) throw new ApiError("WALLET_ERROR", "The wallet returned no account", 0);
  return getAddress(account);
}

/** Builds and signs a Sign-In with Ethereum message for the API's nonce. */
export async function signInMessage(
  address: Address,
  nonce: { nonce: string; domain: string; uri: string; chainId: number },
  statement: string,
): Promise<{ message: string; signature: Hex }> {
  const message = createSiweMessage({
    address,
    chainId: nonce.chainId,
    domain: nonce.domain,
    nonce: nonce.nonce,
    uri: nonce.uri,
    version: "1",
    issuedAt: new Date(),
    statement,
  });
  const client = createWalletClient({ transport: custom(provider()) });
  const signature = await walletCall(() => client.signMessage({ account: address, message }));
  return { message, signature };
}

const UINT = /^u?int\d*$/;

/** Signs the API's EIP-712 typed data in the wallet, as shown. */
export async function signTypedData(address: Address, typedData: TypedData): Promise<Hex> {
  const fields = typedData.types[typedData.primaryType] ?? [];
  const message = Object.fromEntries(
    Object.entries(typedData.message).map(([name, value]) => {
      const type = fields.find((field) => field.name === name)?.type ?? "";
      return [name, UINT.test(type) ? BigInt(value) : value];
    }),
  );
  const types = Object.fromEntries(Object.entries(typedData.types).filter(([name]) => name !== "EIP712Domain"));
  const client = createWalletClient({ transport: custom(provider()) });
  return walletCall(() =>
    client.signTypedData({
      account: address,
      domain: { ...typedData.domain, verifyingContract: typedData.domain.verifyingContract as Address },
      types,
      primaryType: typedData.primaryType,
      message,
    }),
  );
}
