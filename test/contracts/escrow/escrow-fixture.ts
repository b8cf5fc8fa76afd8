/**
 * The starting state of the PaymentEscrow tests: a Stablecoin (via the token's own test fixture), the
 * StablerailForwarder, a PaymentEscrow trusting it, and named actors; plus builders for payment terms and the
 * parties' signatures (the payer's EIP-3009 ReceiveWithAuthorization bound to the payment id, a refunder's bound to
 * a refund of it, an EIP-2612 permit — which the escrow never accepts as consent, for the adversary tests).
 */
import { hexlify, randomBytes, type Signer } from "ethers";
import type { network } from "hardhat";

import { signPermit, signReceiveWithAuthorization, type TypedDataSigner } from "../../helpers/eip712.ts";
import { deployStablecoin, ONE } from "../../helpers/stablecoin.ts";

type Connection = Awaited<ReturnType<typeof network.create>>;
export type EscrowFixture = Awaited<ReturnType<typeof deployEscrow>>;

export const MAX_AMOUNT = 100n * ONE;
export const DAY = 24n * 60n * 60n;
export const MAX_UINT = 2n ** 256n - 1n;

/** PaymentTerms as ethers passes the struct. */
export type Terms = {
  operator: string;
  payer: string;
  merchant: string;
  token: string;
  maxAmount: bigint;
  authorizationExpiry: bigint;
  refundExpiry: bigint;
  minFeeBps: bigint;
  maxFeeBps: bigint;
  feeReceiver: string;
  salt: bigint;
};

/** The terms as the tuple events and views return them (field order of the struct). */
export const termsTuple = (t: Terms) => [
  t.operator,
  t.payer,
  t.merchant,
  t.token,
  t.maxAmount,
  t.authorizationExpiry,
  t.refundExpiry,
  t.minFeeBps,
  t.maxFeeBps,
  t.feeReceiver,
  t.salt,
];

/**
 * Deploys token, forwarder and escrow; the operator, merchant, fee receiver and a stranger are distinct accounts.
 * @param connection - the test file's Hardhat connection
 */
export async function deployEscrow(connection: Connection) {
  const { ethers, networkHelpers } = connection;
  const base = await deployStablecoin(connection);
  const signers = await ethers.getSigners();
  const [operator, merchant, feeReceiver, stranger] = [10, 11, 12, 13].map((i) => signers[i]!) as [
    Signer & { address: string },
    Signer & { address: string },
    Signer & { address: string },
    Signer & { address: string },
  ];
  const forwarder = await ethers.deployContract("StablerailForwarder");
  const escrow = await ethers.deployContract("PaymentEscrow", [await forwarder.getAddress()]);
  const escrowAddress = await escrow.getAddress();
  const tokenAddress = await base.token.getAddress();
  const now = BigInt(await networkHelpers.time.latest());

  /** Terms paid by alice to the merchant, 1-day authorization, 7-day refunds, fee 0–5 %. */
  const makeTerms = (overrides: Partial<Terms> = {}): Terms => ({
    operator: operator.address,
    payer: base.alice.address,
    merchant: merchant.address,
    token: tokenAddress,
    maxAmount: MAX_AMOUNT,
    authorizationExpiry: now + DAY,
    refundExpiry: now + 7n * DAY,
    minFeeBps: 0n,
    maxFeeBps: 500n,
    feeReceiver: feeReceiver.address,
    salt: BigInt(hexlify(randomBytes(32))),
    ...overrides,
  });

  /** The payer's ReceiveWithAuthorization of `value` to the escrow with nonce = the payment id. */
  const signReceive = async (
    signer: TypedDataSigner,
    terms: Terms,
    value: bigint,
    window: { validAfter?: bigint; validBefore?: bigint; nonce?: string; from?: string } = {},
  ) => {
    const validAfter = window.validAfter ?? 0n;
    const validBefore = window.validBefore ?? MAX_UINT;
    const nonce = window.nonce ?? (await escrow.getPaymentId(terms));
    const from = window.from ?? terms.payer;
    const sig = await signReceiveWithAuthorization(signer, base.token, {
      from,
      to: escrowAddress,
      value,
      validAfter,
      validBefore,
      nonce,
    });
    return { validAfter, validBefore, signature: sig.signature };
  };

  /**
   * A refunder's ReceiveWithAuthorization of `value` to the escrow with nonce = getRefundNonce(payment id, salt),
   * the authorization {PaymentEscrow.refundWithAuthorization} redeems.
   */
  const signRefund = async (
    signer: TypedDataSigner & { address: string },
    terms: Terms,
    value: bigint,
    window: { validAfter?: bigint; validBefore?: bigint; refundSalt?: string } = {},
  ) => {
    const validAfter = window.validAfter ?? 0n;
    const validBefore = window.validBefore ?? MAX_UINT;
    const refundSalt = window.refundSalt ?? hexlify(randomBytes(32));
    const nonce = await escrow.getRefundNonce(await escrow.getPaymentId(terms), refundSalt);
    const sig = await signReceiveWithAuthorization(signer, base.token, {
      from: signer.address,
      to: escrowAddress,
      value,
      validAfter,
      validBefore,
      nonce,
    });
    return { refunder: signer.address, validAfter, validBefore, refundSalt, nonce, signature: sig.signature };
  };

  /** The payer's EIP-2612 permit of `value` to the escrow at their current nonce. */
  const signEscrowPermit = async (
    signer: TypedDataSigner & { address: string },
    value: bigint,
    deadline = MAX_UINT,
  ) => {
    const nonce = await base.token.nonces(signer.address);
    const sig = await signPermit(signer, base.token, {
      owner: signer.address,
      spender: escrowAddress,
      value,
      nonce,
      deadline,
    });
    return { deadline, v: sig.v, r: sig.r, s: sig.s };
  };

  return {
    ...base,
    operator,
    merchant,
    feeReceiver,
    stranger,
    forwarder,
    escrow,
    escrowAddress,
    tokenAddress,
    makeTerms,
    signReceive,
    signRefund,
    signEscrowPermit,
  };
}

/** Status values of IPaymentEscrow.Status. */
export const Status = { None: 0n, Authorized: 1n, Captured: 2n, Voided: 3n, Reclaimed: 4n } as const;
