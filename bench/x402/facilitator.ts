/**
 * x402 facilitator benchmark (printed, not asserted): latency p50 / p99 of POST /x402/verify and
 * POST /x402/settle over real HTTP, and settled payments per second sustained at a concurrency, against
 * a baseline measured in the same run: the same number of EIP-3009 transfers sent directly with viem
 * from one key (one after the other, clock stopped at the last receipt).
 *
 * Real parts (test/api/helpers/api-fixture.ts): in-process Hardhat chain, PGlite in memory, Redis, the
 * relayer's workers with their 2 keys and defaults (no batching, 0 confirmations). Every settle is
 * checked: success, and the merchant's balance grew by exactly the payments.
 *
 * Run: `hardhat run bench/x402/facilitator.ts` (BENCH_PAYMENTS, default 300; BENCH_CONCURRENCY, default 16).
 */
import { getAddress, type Hash } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

import { stablecoinAbi } from "../../lib/chain/abis/stablecoin.ts";
import { randomAuthorizationNonce, type Eip3009Authorization } from "../../lib/signing/eip3009-fields.ts";
import { transferWithAuthorizationTypedData } from "../../lib/signing/transfer-with-authorization.ts";
import { createApiFixture } from "../../test/api/helpers/api-fixture.ts";
import { HARDHAT_PRIVATE_KEYS } from "../../test/helpers/chain.ts";
import { ONE } from "../../test/helpers/stablecoin.ts";
import { percentile, printConditions } from "../lib/conditions.ts";

const PAYMENTS = Number(process.env.BENCH_PAYMENTS ?? 300);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const PRICE = 10_000n;
const line = (label: string, value: string) => process.stdout.write(`${label.padEnd(48)} ${value}\n`);

const api = await createApiFixture("bench_x402", { rateLimitPerMinute: 1e9 });
try {
  printConditions("start");
  const url = await api.app.listen({ host: "127.0.0.1", port: 0 });
  const merchant = await api.createUser("merchant", "bench shop");
  const payTo = ((await api.request("POST", "/v1/wallets", { key: merchant.key })).body as { address: `0x${string}` })
    .address;
  const payer = privateKeyToAccount(generatePrivateKey());
  await api.fund(payer.address, 900n * ONE);
  const domain = await api.app.services.tokenReads.domain();
  const requirements = {
    scheme: "exact",
    network: "eip155:31337",
    amount: PRICE.toString(),
    asset: api.token,
    payTo,
    maxTimeoutSeconds: 600,
    extra: { name: domain.name, version: domain.version },
  };
  const now = await api.app.services.tokenReads.chainTime();
  const sign = async (to = payTo) => {
    const authorization: Eip3009Authorization = {
      from: payer.address,
      to,
      value: PRICE,
      validAfter: 0n,
      validBefore: now + 3_600n,
      nonce: randomAuthorizationNonce(),
    };
    const signature = await payer.signTypedData(transferWithAuthorizationTypedData(domain, authorization));
    return { authorization, signature };
  };
  const body = (signed: Awaited<ReturnType<typeof sign>>) =>
    JSON.stringify({
      x402Version: 2,
      paymentPayload: {
        x402Version: 2,
        accepted: requirements,
        payload: {
          signature: signed.signature,
          authorization: Object.fromEntries(
            Object.entries(signed.authorization).map(([k, v]) => [k, typeof v === "bigint" ? v.toString() : v]),
          ),
        },
      },
      paymentRequirements: requirements,
    });
  const post = async (path: "verify" | "settle", payload: string) => {
    const started = performance.now();
    const response = await fetch(`${url}/x402/${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${merchant.key}`, "content-type": "application/json" },
      body: payload,
    });
    const answer = (await response.json()) as { isValid?: boolean; success?: boolean; errorReason?: string };
    return { ms: performance.now() - started, answer };
  };

  // Warm-up (JIT, pools, the relayer's keys), not reported.
  for (let i = 0; i < 10; i++) await post("settle", body(await sign()));

  // Direct baseline: the same transfers (to another recipient) sent from one key with viem.
  const direct = api.chain.wallet(privateKeyToAccount(HARDHAT_PRIVATE_KEYS[15]));
  const forDirect = await Promise.all(Array.from({ length: PAYMENTS }, () => sign(getAddress(`0x${"be".repeat(20)}`))));
  let nonce = await api.chain.publicClient.getTransactionCount({
    address: direct.account!.address,
    blockTag: "pending",
  });
  const hashes: Hash[] = [];
  const directStarted = performance.now();
  for (const { authorization: a, signature } of forDirect) {
    hashes.push(
      await direct.writeContract({
        account: direct.account!,
        chain: direct.chain,
        address: api.token,
        abi: stablecoinAbi,
        functionName: "transferWithAuthorization",
        args: [a.from, a.to, a.value, a.validAfter, a.validBefore, a.nonce, signature],
        nonce: nonce++,
      }),
    );
  }
  await api.chain.publicClient.waitForTransactionReceipt({ hash: hashes.at(-1)! });
  const directMs = performance.now() - directStarted;

  // Verify latency, one at a time.
  const verifyMs: number[] = [];
  for (let i = 0; i < Math.min(PAYMENTS, 100); i++) {
    const { ms, answer } = await post("verify", body(await sign()));
    if (!answer.isValid) throw new Error(`verify refused: ${JSON.stringify(answer)}`);
    verifyMs.push(ms);
  }

  // Settle, CONCURRENCY clients at a time, every answer checked.
  const payloads = await Promise.all(Array.from({ length: PAYMENTS }, async () => body(await sign())));
  const before = await api.balanceOf(payTo);
  const settleMs: number[] = [];
  const settleStarted = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < payloads.length) {
        const { ms, answer } = await post("settle", payloads[next++]!);
        if (!answer.success) throw new Error(`settle failed: ${JSON.stringify(answer)}`);
        settleMs.push(ms);
      }
    }),
  );
  const settledMs = performance.now() - settleStarted;
  const after = await api.balanceOf(payTo);
  if (after - before !== PRICE * BigInt(PAYMENTS)) throw new Error(`merchant received ${after - before}`);

  verifyMs.sort((a, b) => a - b);
  settleMs.sort((a, b) => a - b);
  const directRate = PAYMENTS / (directMs / 1000);
  const settledRate = PAYMENTS / (settledMs / 1000);
  line(`direct transferWithAuthorization, one key`, `${directRate.toFixed(1)}/s (${PAYMENTS} transfers)`);
  line(`x402 settle, concurrency ${CONCURRENCY}`, `${settledRate.toFixed(1)} settled/s (${PAYMENTS} payments)`);
  line("x402 settled / direct", `${(settledRate / directRate).toFixed(2)}×`);
  line(
    "POST /x402/verify",
    `p50 ${percentile(verifyMs, 0.5).toFixed(1)} ms, p99 ${percentile(verifyMs, 0.99).toFixed(1)} ms`,
  );
  line(
    "POST /x402/settle (to the relay's confirmation)",
    `p50 ${percentile(settleMs, 0.5).toFixed(0)} ms, p99 ${percentile(settleMs, 0.99).toFixed(0)} ms`,
  );
  printConditions("end");
} finally {
  await api.close();
}
