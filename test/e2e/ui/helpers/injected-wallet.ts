/**
 * An EIP-1193 test wallet injected into the page before it loads (`window.ethereum`), backed by a
 * local private key held in the test process: the page's requests cross to Node through a binding
 * (page.exposeFunction), where a viem local account answers them. It signs whatever it is asked,
 * like a person clicking "Sign" — the UI and the API are what is under test. Every request is
 * recorded, so a test can say what the page asked the wallet to sign.
 */
import type { Page } from "playwright-core";
import { hexToString, type Hex, type PrivateKeyAccount, type TypedDataDefinition } from "viem";

type Request = { method: string; params?: unknown[] };

/** The EIP-712 JSON of eth_signTypedData_v4 with its uint fields back to bigint (exactly, no float). */
function typedDataOf(json: string): TypedDataDefinition {
  const parsed = JSON.parse(json) as {
    domain: Record<string, unknown>;
    types: Record<string, { name: string; type: string }[]>;
    primaryType: string;
    message: Record<string, unknown>;
  };
  const convert = (type: string, value: unknown): unknown => {
    if (/^u?int\d*$/.test(type)) return BigInt(value as string);
    const struct = parsed.types[type];
    if (struct && value && typeof value === "object") {
      return Object.fromEntries(
        struct.map((field) => [field.name, convert(field.type, (value as Record<string, unknown>)[field.name])]),
      );
    }
    return value;
  };
  const { EIP712Domain: _domain, ...types } = parsed.types;
  void _domain;
  return {
    domain: { ...parsed.domain, chainId: Number(parsed.domain.chainId) } as TypedDataDefinition["domain"],
    types,
    primaryType: parsed.primaryType,
    message: convert(parsed.primaryType, parsed.message) as Record<string, unknown>,
  } as unknown as TypedDataDefinition;
}

/**
 * Injects `account` as the page's browser wallet on chain `chainId`, for this page and every
 * later navigation of it.
 * @returns the requests the page made, in order
 */
export async function injectWallet(page: Page, account: PrivateKeyAccount, chainId: number): Promise<Request[]> {
  const requests: Request[] = [];
  await page.exposeFunction("__stablerailTestWallet", async (request: Request) => {
    requests.push(request);
    const params = request.params ?? [];
    switch (request.method) {
      case "eth_requestAccounts":
      case "eth_accounts":
        return [account.address];
      case "eth_chainId":
        return `0x${chainId.toString(16)}`;
      case "personal_sign": {
        const raw = params[0] as Hex;
        return account.signMessage({ message: { raw } });
      }
      case "eth_signTypedData_v4":
        return account.signTypedData(typedDataOf(params[1] as string));
      default:
        throw new Error(`test wallet: ${request.method} is not supported`);
    }
  });
  // A string, not a function: the test runner's transpiler decorates functions with helpers
  // (`__name`) that do not exist in the page. The binding is looked up per request, since it is
  // installed beside this script in no promised order.
  await page.addInitScript(`
    window.ethereum = {
      isStablerailTestWallet: true,
      request: (request) => window.__stablerailTestWallet(request),
      on: () => undefined,
      removeListener: () => undefined,
    };
  `);
  return requests;
}

/** The text a personal_sign request asked the wallet to sign. */
export const signedText = (request: Request): string => hexToString((request.params ?? [])[0] as Hex);
