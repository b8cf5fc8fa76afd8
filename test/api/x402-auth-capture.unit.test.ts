/**
 * Why the official x402 auth-capture client cannot pay Stablerail's PaymentEscrow (docs/design/x402.md):
 * @x402/evm's AuthCaptureEvmScheme signs only for commerce-payments' AuthCaptureEscrow deployments. These
 * tests pin the exact points of incompatibility on the official package itself, so an upgrade that lifts
 * them is noticed: our escrow address is refused before anything is signed, and what it signs for the
 * default deployment is a ReceiveWithAuthorization only commerce-payments' collector could redeem,
 * whose nonce commits to their escrow — not a payment id of ours.
 */
import { AuthCaptureEvmScheme } from "@x402/evm/auth-capture/client";
import { expect } from "chai";
import { getAddress, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

const ourEscrow = getAddress("0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0");
const stablecoin = getAddress("0x5fbdb2315678afecb367f032d93f642f64180aa3");

const requirements = (extra: Record<string, unknown>) => ({
  scheme: "auth-capture",
  network: "eip155:31337" as const,
  amount: "1000000",
  asset: stablecoin,
  payTo: getAddress(`0x${"33".repeat(20)}`),
  maxTimeoutSeconds: 600,
  extra: {
    name: "Stablerail USD",
    version: "1",
    captureAuthorizer: getAddress(`0x${"44".repeat(20)}`),
    feeRecipient: getAddress(`0x${"55".repeat(20)}`),
    captureDeadline: 2_000_000_000,
    refundDeadline: 2_100_000_000,
    minFeeBps: 0,
    maxFeeBps: 0,
    ...extra,
  },
});

describe("x402 auth-capture: the official client against our PaymentEscrow (documented incompatibility)", () => {
  const scheme = new AuthCaptureEvmScheme(privateKeyToAccount(generatePrivateKey()));

  it("refuses our escrow's address before signing: it resolves escrows only from commerce-payments' fixed table", async () => {
    const attempt = scheme.createPaymentPayload(2, requirements({ authCaptureEscrow: ourEscrow }));
    const error = await attempt.then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).to.equal("Invalid authCaptureEscrow in payment requirements extra");
  });

  it("signs, for its default deployment, a ReceiveWithAuthorization to commerce-payments' collector — which our escrow cannot redeem", async () => {
    const { payload } = await scheme.createPaymentPayload(2, requirements({}));
    const { authorization } = payload as { authorization: { to: Address; nonce: Hex } };
    // EIP-3009 lets only `to` call receiveWithAuthorization: here `to` is their collector, not our escrow.
    expect(getAddress(authorization.to)).to.not.equal(ourEscrow);
    expect(getAddress(authorization.to)).to.equal(getAddress("0x8612dfdc421f80336cd14E8EF9cb1E765dB5ab88"));
    expect(authorization.nonce).to.match(/^0x[0-9a-f]{64}$/);
  });
});
