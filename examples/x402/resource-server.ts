/**
 * A merchant's resource server charging for one route in the stablecoin with the official x402
 * middleware (@x402/express), its facilitator being Stablerail's (/x402 on the API, authenticated
 * with the merchant's API key). Nothing here is Stablerail code: it is what a merchant writes.
 */
import type { AddressInfo } from "node:net";

import { HTTPFacilitatorClient } from "@x402/core/server";
import { ExactEvmScheme } from "@x402/evm/exact/server";
import { paymentMiddleware, x402ResourceServer } from "@x402/express";
import express from "express";

export type PaidResourceServerOptions = {
  /** The facilitator's base URL: the Stablerail API's /x402 prefix, e.g. http://127.0.0.1:3000/x402. */
  facilitatorUrl: string;
  /** The merchant's Stablerail API key (Bearer), which the facilitator requires. */
  merchantApiKey: string;
  /** The merchant's wallet that receives the payments (one of its Stablerail wallets). */
  payTo: `0x${string}`;
  /** CAIP-2 network of the chain, e.g. eip155:31337. */
  network: `${string}:${string}`;
  /** The stablecoin and its EIP-712 domain (no default asset exists for a local chain id). */
  asset: { address: `0x${string}`; name: string; version: string };
  /** Price of one request, in base units (decimal string). */
  amount: string;
};

/** Starts the server on a free port of 127.0.0.1. @returns its URL of the paid route, and `close` */
export async function startPaidResourceServer(options: PaidResourceServerOptions) {
  const facilitator = new HTTPFacilitatorClient({
    url: options.facilitatorUrl,
    createAuthHeaders: async () => {
      const headers = { Authorization: `Bearer ${options.merchantApiKey}` };
      return { verify: headers, settle: headers, supported: headers };
    },
  });
  const resourceServer = new x402ResourceServer(facilitator).register(options.network, new ExactEvmScheme());
  const app = express();
  app.use(
    paymentMiddleware(
      {
        "GET /premium": {
          accepts: {
            scheme: "exact",
            network: options.network,
            payTo: options.payTo,
            price: {
              amount: options.amount,
              asset: options.asset.address,
              extra: { name: options.asset.name, version: options.asset.version },
            },
            maxTimeoutSeconds: 120,
          },
          description: "One premium report",
        },
      },
      resourceServer,
    ),
  );
  app.get("/premium", (_request, response) => {
    response.json({ report: "the premium report", servedAt: new Date().toISOString() });
  });
  const server = app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/premium`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
