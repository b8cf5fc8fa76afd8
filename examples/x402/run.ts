/**
 * `npm run example:x402`: with the local stack running (`npm start`), a merchant charges 0.01 USDR
 * for one route through Stablerail's x402 facilitator, and a client pays for it — both with the
 * official x402 packages. Prints each step: the 402, the payment, the 200, the transaction and the
 * ledger entry. Needs an admin API key to create the merchant: API_BOOTSTRAP_ADMIN_KEY (set it in
 * .env before `npm start`, or use the key `npm start` printed) or STABLERAIL_ADMIN_KEY.
 */
import { createWalletClient, http, parseUnits } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

import { TOKEN_DECIMALS } from "../../ignition/modules/Stablerail.ts";
import { stablecoinAbi } from "../../lib/chain/abis/stablecoin.ts";
import { stablerailChain } from "../../lib/chain/chain.ts";
import { apiEnv } from "../../lib/config/api.ts";
import { relayerEnv } from "../../lib/config/relayer.ts";
import { chainEnv } from "../../lib/config/sections.ts";
import { bootstrapProcess, connectDeployment, runMain } from "../../lib/process/bootstrap.ts";
import { fetchPaid } from "./client.ts";
import { startPaidResourceServer } from "./resource-server.ts";

const say = (step: string, text: string) => process.stdout.write(`${step.padEnd(12)} ${text}\n`);

runMain("example:x402", async () => {
  const { config } = bootstrapProcess("example", { chain: chainEnv, api: apiEnv, relayer: relayerEnv });
  const { publicClient, contracts, deployment } = await connectDeployment(config.chain);
  const apiUrl = `http://${config.api.host}:${config.api.port}`;
  const adminKey = process.env.STABLERAIL_ADMIN_KEY ?? config.api.bootstrapAdminKey;
  if (!adminKey)
    throw new Error("set STABLERAIL_ADMIN_KEY (the admin key npm start printed) or API_BOOTSTRAP_ADMIN_KEY");
  const call = async (method: string, path: string, key: string, body?: unknown) => {
    const response = await fetch(`${apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { "content-type": "application/json" } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  const created = await call("POST", "/v1/users", adminKey, { role: "merchant", name: "x402 example shop" });
  if (created.status !== 201) throw new Error(`creating the merchant failed: ${JSON.stringify(created.body)}`);
  const merchantKey = created.body["apiKey"] as string;
  const wallet = (await call("POST", "/v1/wallets", merchantKey)).body as { address: `0x${string}` };
  say("merchant", `wallet ${wallet.address}, facilitator ${apiUrl}/x402`);

  // The client: a key Stablerail does not know, funded on the local chain (the deployer mints).
  const payer = privateKeyToAccount(generatePrivateKey());
  const minter = createWalletClient({
    account: privateKeyToAccount(config.relayer.operatorKey),
    chain: stablerailChain(config.chain.chainId, config.chain.rpcUrl),
    transport: http(config.chain.rpcUrl),
  });
  const minted = await minter.writeContract({
    address: contracts.stablecoin,
    abi: stablecoinAbi,
    functionName: "mint",
    args: [payer.address, parseUnits("1", TOKEN_DECIMALS)],
  });
  await publicClient.waitForTransactionReceipt({ hash: minted });
  say("client", `${payer.address} holds 1 USDR and no ETH`);

  const domain = await publicClient.readContract({
    address: contracts.stablecoin,
    abi: stablecoinAbi,
    functionName: "eip712Domain",
  });
  const network = `eip155:${deployment.chainId}` as const;
  const amount = parseUnits("0.01", TOKEN_DECIMALS).toString();
  const server = await startPaidResourceServer({
    facilitatorUrl: `${apiUrl}/x402`,
    merchantApiKey: merchantKey,
    payTo: wallet.address,
    network,
    asset: { address: contracts.stablecoin, name: domain[1], version: domain[2] },
    amount,
  });
  try {
    const unpaid = await fetch(server.url);
    say("402", `${server.url} answers ${unpaid.status} Payment Required`);
    const paid = await fetchPaid(server.url, payer, {
      network,
      asset: contracts.stablecoin,
      maxAmountPerPayment: amount,
    });
    say("paid", `the client signed an EIP-3009 authorization of ${amount} base units`);
    say(String(paid.status), paid.body);
    const transaction = paid.settlement?.transaction;
    say("settled", `${paid.settlement?.success ? "success" : "FAILED"} in ${transaction}`);
    for (let attempt = 0; transaction && attempt < 100; attempt++) {
      const entry = await call("GET", `/v1/transactions/${transaction}`, merchantKey);
      if (entry.status === 200) {
        const [first] = entry.body["entries"] as { kind: string; postings: { account: string; amount: string }[] }[];
        say("ledger", `${first?.kind}: ${first?.postings.map((p) => `${p.account} ${p.amount}`).join(", ")}`);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    await server.close();
  }
  process.exit(0);
});
