import { NotFoundError, ValidationError } from "../../lib/errors/base.ts";

/** No such wallet, or one the caller may not see: 404 either way, so wallet ids cannot be probed. */
export class WalletNotFoundError extends NotFoundError {
  override name = "WalletNotFoundError";
  constructor() {
    super("WALLET_NOT_FOUND", "No such wallet");
  }
}

/** The request does not fit the wallet's kind: a signature sent for a custodial wallet, or none for a self-custody one. */
export class WalletKindError extends ValidationError {
  override name = "WalletKindError";
}
