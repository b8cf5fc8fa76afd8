/**
 * Deploys Stablerail's contracts and wires them: the Stablecoin ("Stablerail USD", USDR, 6 decimals, admin = the
 * deployer), the StablerailForwarder, the PaymentEscrow and the Settlement (both trusting the forwarder). The deployer
 * also gets the token's minter-admin, pauser, freezer and rescuer roles; one minter is configured; Settlement's
 * PAYOUT_ROLE goes to the payout account. Every parameter has a default, so `hardhat ignition deploy` needs none.
 *
 * Parameters (module "Stablerail"): `adminTransferDelay` (seconds, default 3 days; the token's and the Settlement's
 * two-step default admin transfer), `minter` (default deployer), `minterAllowance` (default 10^12 USDR),
 * `payoutAccount` (default deployer), `authorizationGasLimit` (default 200,000; see below), `attester` (default deployer:
 * the ReserveAttestation's ATTESTER_ROLE, the auditor's key that publishes proofs of reserves).
 */
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

export const TOKEN_NAME = "Stablerail USD";
export const TOKEN_SYMBOL = "USDR";
export const TOKEN_DECIMALS = 6;
export const DEFAULT_ADMIN_TRANSFER_DELAY = 3n * 24n * 60n * 60n;
export const DEFAULT_MINTER_ALLOWANCE = 1_000_000_000_000n * 10n ** 6n;
/**
 * The most gas Settlement.settleAuthorizations forwards to the token per item. Why 200,000: the token's own work
 * for a transferWithAuthorization is at most ~72k (a first-time recipient, ECDSA tried first), leaving ~125k for an
 * ERC-1271 wallet's isValidSignature — a Safe checks one owner signature for ~7k on top of ~15k of proxy and
 * fallback-handler calls, so even a 10-of-n Safe fits with room to spare. A wallet that burns all it is given then
 * costs a batch at most this (about four honest items' worth), and an item needs ~218k left to be attempted, so a
 * 2^24-gas transaction can guarantee an attempt to every item of a 76-item batch even if all of them burn gas.
 */
export const DEFAULT_AUTHORIZATION_GAS_LIMIT = 200_000n;

export default buildModule("Stablerail", (m) => {
  const deployer = m.getAccount(0);
  const adminTransferDelay = m.getParameter("adminTransferDelay", DEFAULT_ADMIN_TRANSFER_DELAY);
  const minter = m.getParameter("minter", deployer);
  const minterAllowance = m.getParameter("minterAllowance", DEFAULT_MINTER_ALLOWANCE);
  const payoutAccount = m.getParameter("payoutAccount", deployer);
  const authorizationGasLimit = m.getParameter("authorizationGasLimit", DEFAULT_AUTHORIZATION_GAS_LIMIT);
  const attester = m.getParameter("attester", deployer);

  const stablecoin = m.contract("Stablecoin", [TOKEN_NAME, TOKEN_SYMBOL, TOKEN_DECIMALS, deployer, adminTransferDelay]);
  const forwarder = m.contract("StablerailForwarder", []);
  const escrow = m.contract("PaymentEscrow", [forwarder]);
  const settlement = m.contract("Settlement", [deployer, adminTransferDelay, forwarder, authorizationGasLimit]);

  const roles = ["MINTER_ADMIN_ROLE", "PAUSER_ROLE", "FREEZER_ROLE", "RESCUER_ROLE"] as const;
  const grants = roles.map((role) => {
    const roleId = m.staticCall(stablecoin, role, [], 0, { id: `read_${role}` });
    return m.call(stablecoin, "grantRole", [roleId, deployer], { id: `grant_${role}` });
  });
  // configureMinter needs MINTER_ADMIN_ROLE, granted just above.
  m.call(stablecoin, "configureMinter", [minter, minterAllowance], { after: grants });

  const payoutRole = m.staticCall(settlement, "PAYOUT_ROLE", [], 0, { id: "read_PAYOUT_ROLE" });
  m.call(settlement, "grantRole", [payoutRole, payoutAccount], { id: "grant_PAYOUT_ROLE" });

  const reserveAttestation = m.contract("ReserveAttestation", [deployer, attester]);

  return { stablecoin, forwarder, escrow, settlement, reserveAttestation };
});
