/**
 * Verifies an x402 `exact` payment (EIP-3009 TransferWithAuthorization) for the merchant calling
 * the facilitator — every check the specification names (scheme_exact_evm.md, Phase 2) plus the
 * platform's: the payment must pay one of the calling merchant's wallets, and pass the same money
 * policies as every other movement (amount, nothing frozen, balance). Authorization windows are
 * judged by chain time, as the token judges them. Reads only.
 */
import { getAddress, isAddressEqual, type Address, type Hex } from "viem";
import { and, eq } from "drizzle-orm";

import { stablecoinAbi } from "../../lib/chain/abis/stablecoin.ts";
import { isStablerailError } from "../../lib/errors/base.ts";
import type { Eip3009Authorization } from "../../lib/signing/eip3009-fields.ts";
import { isTransferWithAuthorizationSignedBy } from "../../lib/signing/transfer-with-authorization.ts";
import type { Principal } from "../auth/principal.ts";
import { apiUsers, wallets } from "../db/schema.ts";
import type { AppServices } from "../dependencies.ts";
import {
  exactEip3009PayloadSchema,
  paymentPayloadSchema,
  paymentRequirementsSchema,
  X402_VERSION,
  type FacilitatorRequest,
  type PaymentRequirements,
} from "./x402-messages.ts";
import { X402Reason, X402Refusal } from "./x402-reasons.ts";

/** An authorization must stay valid this long after verification, so settling it can still succeed. */
const VALID_BEFORE_MARGIN_SECONDS = 6n;

/** A payment that passed verification: what settling it needs. */
export type VerifiedExactPayment = {
  requirements: PaymentRequirements;
  network: string;
  payer: Address;
  payTo: { address: Address; walletId: string };
  authorization: Eip3009Authorization;
  signature: Hex;
  /** The payment-identifier extension's id, when the client sent one. */
  paymentIdentifier: string | undefined;
};

/** The CAIP-2 network of the configured chain: what this facilitator settles on. */
export const networkOf = (chainId: number) => `eip155:${chainId}`;

/**
 * @returns the verified payment
 * @throws X402Refusal with the specification's reason for the first check that fails
 */
export async function verifyExactPayment(
  services: AppServices,
  principal: Principal,
  request: FacilitatorRequest,
): Promise<VerifiedExactPayment> {
  const payment = await matchExactPayment(services, principal, request);
  await checkExactPaymentNow(services, principal, payment);
  return payment;
}

/**
 * The checks that hold for ever once they hold: the message is well-formed and for this scheme,
 * network, asset and token domain; it pays one of the calling merchant's wallets exactly the amount
 * asked; the payer signed exactly it. A settle retried after success passes these (and only these).
 * @throws X402Refusal
 */
export async function matchExactPayment(
  services: AppServices,
  principal: Principal,
  request: FacilitatorRequest,
): Promise<VerifiedExactPayment> {
  if (request.x402Version !== X402_VERSION) {
    throw new X402Refusal(X402Reason.invalidX402Version, `Only x402Version ${X402_VERSION} is supported`);
  }
  const requirements = paymentRequirementsSchema.safeParse(request.paymentRequirements);
  if (!requirements.success)
    throw new X402Refusal(X402Reason.invalidPaymentRequirements, firstIssue(requirements.error));
  const payload = paymentPayloadSchema.safeParse(request.paymentPayload);
  if (!payload.success) throw new X402Refusal(X402Reason.invalidPayload, firstIssue(payload.error));
  if (payload.data.x402Version !== X402_VERSION) {
    throw new X402Refusal(X402Reason.invalidX402Version, `Only x402Version ${X402_VERSION} is supported`);
  }
  const wanted = requirements.data;
  const accepted = payload.data.accepted;
  const network = networkOf(services.chainId);

  if (wanted.scheme !== "exact") {
    throw new X402Refusal(X402Reason.unsupportedScheme, `Scheme ${wanted.scheme} is not supported; use "exact"`);
  }
  if (accepted.scheme !== wanted.scheme) {
    throw new X402Refusal(X402Reason.schemeMismatch, "The payment was made for another scheme than the requirements");
  }
  if (wanted.network !== network) {
    throw new X402Refusal(X402Reason.invalidNetwork, `This facilitator settles on ${network} only`);
  }
  if (accepted.network !== wanted.network) {
    throw new X402Refusal(X402Reason.networkMismatch, "The payment was made for another network than the requirements");
  }
  if (!isAddressLike(wanted.asset) || !isAddressEqual(wanted.asset, services.contracts.stablecoin)) {
    throw new X402Refusal(
      X402Reason.invalidPaymentRequirements,
      `The asset must be the stablecoin ${services.contracts.stablecoin}`,
    );
  }
  const method = wanted.extra?.["assetTransferMethod"];
  if (method !== undefined && method !== "eip3009") {
    throw new X402Refusal(X402Reason.unsupportedPayloadType, "Only the eip3009 asset transfer method is supported");
  }
  const domain = await services.tokenReads.domain();
  const name = wanted.extra?.["name"];
  const version = wanted.extra?.["version"];
  if (typeof name !== "string" || typeof version !== "string") {
    throw new X402Refusal(
      X402Reason.missingEip712Domain,
      "The requirements' extra must name the token's EIP-712 name and version",
    );
  }
  if (name !== domain.name)
    throw new X402Refusal(X402Reason.tokenNameMismatch, `The token's EIP-712 name is "${domain.name}"`);
  if (version !== domain.version) {
    throw new X402Refusal(X402Reason.tokenVersionMismatch, `The token's EIP-712 version is "${domain.version}"`);
  }
  if (
    accepted.amount !== wanted.amount ||
    !sameAddress(accepted.asset, wanted.asset) ||
    !sameAddress(accepted.payTo, wanted.payTo)
  ) {
    throw new X402Refusal(
      X402Reason.invalidPayload,
      "The payment's accepted requirements differ from these requirements",
    );
  }
  const exact = exactEip3009PayloadSchema.safeParse(payload.data.payload);
  if (!exact.success) {
    const permit2 = "permit2Authorization" in payload.data.payload;
    throw new X402Refusal(
      permit2 ? X402Reason.unsupportedPayloadType : X402Reason.invalidPayload,
      permit2 ? "Only EIP-3009 payloads are supported" : firstIssue(exact.error),
    );
  }
  const authorization: Eip3009Authorization = {
    from: getAddress(exact.data.authorization.from),
    to: getAddress(exact.data.authorization.to),
    value: BigInt(exact.data.authorization.value),
    validAfter: BigInt(exact.data.authorization.validAfter),
    validBefore: BigInt(exact.data.authorization.validBefore),
    nonce: exact.data.authorization.nonce.toLowerCase() as Hex,
  };
  const signature = exact.data.signature as Hex;
  const payer = authorization.from;

  const refuse = (reason: string, message: string): never => {
    const refusal = new X402Refusal(reason, message);
    refusal.payer = payer;
    throw refusal;
  };
  const payTo = await merchantWallet(services, principal, wanted.payTo);
  if (!payTo) refuse(X402Reason.payToNotYours, "payTo must be one of the wallets of the merchant whose API key calls");
  if (!isAddressEqual(authorization.to, payTo!.address)) {
    refuse(X402Reason.recipientMismatch, "The authorization pays another address than payTo");
  }
  if (authorization.value !== BigInt(wanted.amount)) {
    refuse(
      X402Reason.valueMismatch,
      `The authorization moves ${authorization.value}, the requirements ask ${wanted.amount}`,
    );
  }
  if (!(await isTransferWithAuthorizationSignedBy(services.publicClient, domain, authorization, signature))) {
    refuse(X402Reason.invalidSignature, "The signature is not the payer's signature of this authorization");
  }
  const identifier = (payload.data.extensions?.["payment-identifier"] as { info?: { id?: unknown } } | undefined)?.info
    ?.id;
  return {
    requirements: wanted,
    network,
    payer,
    payTo: payTo!,
    authorization,
    signature,
    paymentIdentifier: typeof identifier === "string" ? identifier : undefined,
  };
}

/**
 * The checks of the moment, which a settled payment no longer passes: the validity window by chain
 * time, the nonce unused on chain, the money policies (amount, nothing frozen, balance), and a
 * simulation of the settlement itself.
 * @throws X402Refusal
 */
export async function checkExactPaymentNow(
  services: AppServices,
  principal: Principal,
  payment: VerifiedExactPayment,
): Promise<void> {
  const { authorization, signature, payer } = payment;
  const refuse = (reason: string, message: string): never => {
    const refusal = new X402Refusal(reason, message);
    refusal.payer = payer;
    throw refusal;
  };
  const now = await services.tokenReads.chainTime();
  if (authorization.validBefore <= now + VALID_BEFORE_MARGIN_SECONDS) {
    refuse(X402Reason.validBefore, `The authorization expires at ${authorization.validBefore}; chain time is ${now}`);
  }
  if (authorization.validAfter >= now) {
    refuse(
      X402Reason.validAfter,
      `The authorization is valid only after ${authorization.validAfter}; chain time is ${now}`,
    );
  }
  if (await services.tokenReads.isAuthorizationUsed(payer, authorization.nonce)) {
    refuse(X402Reason.nonceUsed, "This authorization was already used on chain");
  }
  await checkPolicies(services, principal, payer, payment.payTo.address, authorization.value).catch(
    (error: unknown) => {
      if (!isStablerailError(error)) throw error;
      const reason =
        error.code === "INSUFFICIENT_BALANCE"
          ? X402Reason.insufficientBalance
          : error.code === "ACCOUNT_FROZEN"
            ? X402Reason.accountFrozen
            : error.code.toLowerCase();
      refuse(reason, error.shortMessage);
    },
  );
  await simulate(services, authorization, signature).catch((error: unknown) =>
    refuse(
      X402Reason.simulationFailed,
      `transferWithAuthorization would revert: ${(error as Error).message.split("\n")[0]}`,
    ),
  );
}

/** The money policies every movement passes (api/movements/movement-policies.ts), as the door runs them. */
async function checkPolicies(services: AppServices, principal: Principal, from: Address, to: Address, amount: bigint) {
  const [user] = await services.database.db
    .select({ frozen: apiUsers.frozen })
    .from(apiUsers)
    .where(eq(apiUsers.id, principal.userId));
  for (const policy of services.policies) {
    await policy.check({
      kind: "transfer",
      userId: principal.userId,
      userFrozen: user?.frozen ?? false,
      from,
      to,
      amount,
    });
  }
}

async function merchantWallet(services: AppServices, principal: Principal, payTo: string) {
  if (!isAddressLike(payTo)) return undefined;
  const [wallet] = await services.database.db
    .select({ id: wallets.id, address: wallets.address })
    .from(wallets)
    .where(and(eq(wallets.userId, principal.userId), eq(wallets.address, getAddress(payTo))));
  return wallet ? { walletId: wallet.id, address: wallet.address as Address } : undefined;
}

/** eth_call of the settlement itself: anything the token would refuse that the checks above did not foresee. */
async function simulate(services: AppServices, a: Eip3009Authorization, signature: Hex): Promise<void> {
  await services.publicClient.simulateContract({
    address: services.contracts.stablecoin,
    abi: stablecoinAbi,
    functionName: "transferWithAuthorization",
    args: [a.from, a.to, a.value, a.validAfter, a.validBefore, a.nonce, signature],
  });
}

const isAddressLike = (value: string): value is Address => /^0x[0-9a-fA-F]{40}$/.test(value);
const sameAddress = (a: string, b: string) => isAddressLike(a) && isAddressLike(b) && isAddressEqual(a, b);
const firstIssue = (error: { issues: { path: PropertyKey[]; message: string }[] }) => {
  const issue = error.issues[0];
  return issue ? `${issue.path.map(String).join(".") || "body"}: ${issue.message}` : "malformed";
};
