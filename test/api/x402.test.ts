/**
 * The x402 facilitator against the official packages, with real parts: Hardhat's EVM, the relayer's
 * workers, the indexer, Redis, PGlite. The client is @x402/fetch with @x402/evm's `exact` scheme and
 * a viem account (a payer Stablerail does not know); the resource server is @x402/express with
 * @x402/core's HTTPFacilitatorClient pointed at our /x402 (examples/x402). Payloads are built by hand
 * only where a test must send what the official client never would (a wrong amount, a hostile payload).
 */
import { expect } from "chai";
import type { Address, Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";

import { dispatchChainEvents } from "../../api/webhooks/dispatch-chain-events.ts";
import { createWebhookQueue } from "../../api/webhooks/webhook-queue.ts";
import { fetchPaid } from "../../examples/x402/client.ts";
import { startPaidResourceServer } from "../../examples/x402/resource-server.ts";
import { randomAuthorizationNonce, type Eip3009Authorization } from "../../lib/signing/eip3009-fields.ts";
import { transferWithAuthorizationTypedData } from "../../lib/signing/transfer-with-authorization.ts";
import { ONE } from "../helpers/stablecoin.ts";
import { createApiFixture, TEST_REDIS_URL, type ApiFixture } from "./helpers/api-fixture.ts";

const PRICE = 25_000n; // 0.025 USDR

describe("x402 facilitator (/x402) with the official client and middleware", () => {
  let api: ApiFixture;
  let apiUrl: string;
  let merchant: { key: string };
  let payTo: Address;
  const network = "eip155:31337" as const;
  let domain: { name: string; version: string; chainId: number; verifyingContract: Address };
  let resource: Awaited<ReturnType<typeof startPaidResourceServer>>;
  const payer = privateKeyToAccount(generatePrivateKey());

  before(async () => {
    api = await createApiFixture("x402");
    apiUrl = await api.app.listen({ host: "127.0.0.1", port: 0 });
    merchant = await api.createUser("merchant", "x402 shop");
    payTo = ((await api.request("POST", "/v1/wallets", { key: merchant.key })).body as { address: Address }).address;
    domain = await api.app.services.tokenReads.domain();
    resource = await startPaidResourceServer({
      facilitatorUrl: `${apiUrl}/x402`,
      merchantApiKey: merchant.key,
      payTo,
      network,
      asset: { address: api.token, name: domain.name, version: domain.version },
      amount: PRICE.toString(),
    });
    await api.fund(payer.address, 10n * ONE);
  });
  after(async () => {
    await resource?.close();
    await api?.close();
  });

  /** The requirements the resource server advertises in its 402. */
  const requirements = () => ({
    scheme: "exact",
    network,
    amount: PRICE.toString(),
    asset: api.token,
    payTo,
    maxTimeoutSeconds: 120,
    extra: { name: domain.name, version: domain.version },
  });

  /** A facilitator request for an authorization signed as the exact scheme specifies (for cases the official client never sends). */
  const signed = async (
    changes: Partial<Eip3009Authorization> & { signer?: PrivateKeyAccount; extensions?: Record<string, unknown> } = {},
  ) => {
    const now = await api.app.services.tokenReads.chainTime();
    const signer = changes.signer ?? payer;
    const authorization: Eip3009Authorization = {
      from: changes.from ?? signer.address,
      to: changes.to ?? payTo,
      value: changes.value ?? PRICE,
      validAfter: changes.validAfter ?? now - 60n,
      validBefore: changes.validBefore ?? now + 600n,
      nonce: changes.nonce ?? randomAuthorizationNonce(),
    };
    const signature = await signer.signTypedData(transferWithAuthorizationTypedData(domain, authorization));
    return {
      x402Version: 2,
      paymentPayload: {
        x402Version: 2,
        resource: { url: resource.url },
        accepted: requirements(),
        payload: {
          signature,
          authorization: Object.fromEntries(
            Object.entries(authorization).map(([k, v]) => [k, typeof v === "bigint" ? v.toString() : v]),
          ),
        },
        ...(changes.extensions ? { extensions: changes.extensions } : {}),
      },
      paymentRequirements: requirements(),
    };
  };

  const facilitator = (path: "verify" | "settle", body: unknown, key = merchant.key) =>
    api.request("POST", `/x402/${path}`, { key, body });

  it("GET /supported names the exact scheme on this chain, with the stablecoin and its EIP-712 domain", async () => {
    const supported = await api.request("GET", "/x402/supported", { key: merchant.key });
    expect(supported.status).to.equal(200);
    expect(supported.body.kinds).to.deep.equal([
      {
        x402Version: 2,
        scheme: "exact",
        network,
        extra: { asset: api.token, name: domain.name, version: domain.version },
      },
    ]);
    expect(supported.body.extensions).to.include("payment-identifier");
    expect((await api.request("GET", "/x402/supported", {})).status).to.equal(401);
  });

  it("the official client pays the official middleware: 402 → paid → 200, one Transfer on chain, one ledger entry, one webhook", async () => {
    const hooks = await api.request("POST", "/v1/webhook-endpoints", {
      key: merchant.key,
      body: { url: "http://127.0.0.1:9/hooks" },
    });
    expect(hooks.status, JSON.stringify(hooks.body)).to.equal(201);
    expect((await fetch(resource.url)).status).to.equal(402);

    const payerBefore = await api.balanceOf(payer.address);
    const merchantBefore = await api.balanceOf(payTo);
    const paid = await fetchPaid(resource.url, payer, {
      network,
      asset: api.token,
      maxAmountPerPayment: PRICE.toString(),
    });
    expect(paid.status, paid.body).to.equal(200);
    expect(JSON.parse(paid.body).report).to.equal("the premium report");
    expect(paid.settlement?.success).to.equal(true);
    const transaction = paid.settlement!.transaction as Hex;
    expect(transaction).to.match(/^0x[0-9a-f]{64}$/);
    expect(await api.balanceOf(payer.address)).to.equal(payerBefore - PRICE);
    expect(await api.balanceOf(payTo)).to.equal(merchantBefore + PRICE);

    await api.indexer.catchUp();
    const tx = await api.request("GET", `/v1/transactions/${transaction}`, { key: merchant.key });
    expect(tx.status).to.equal(200);
    expect(tx.body.entries).to.have.length(1);
    expect(tx.body.entries[0]).to.include({ kind: "authorization_transfer" });

    const queue = createWebhookQueue({ redisUrl: TEST_REDIS_URL, prefix: api.redisPrefix });
    try {
      await dispatchChainEvents({
        database: api.database,
        redis: api.redis,
        prefix: api.redisPrefix,
        chainId: 31337,
        queue: queue.queue,
      });
      const jobs = await queue.queue.getJobs(["waiting", "delayed", "prioritized", "active", "failed"]);
      const transfers = jobs.filter(
        (job) =>
          job.data.event.type === "stablecoin.transfer" && job.data.event.data["transactionHash"] === transaction,
      );
      expect(transfers).to.have.length(1);
    } finally {
      await queue.queue.obliterate({ force: true });
      await queue.close();
    }
  });

  it("settles a payload once however often it is sent: replayed, concurrent, or asked again after a timeout", async () => {
    const body = await signed();
    const before = await api.balanceOf(payTo);
    const answers = await Promise.all([
      facilitator("settle", body),
      facilitator("settle", body),
      facilitator("settle", body),
    ]);
    for (const answer of answers) {
      expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
      expect(answer.body.success, JSON.stringify(answer.body)).to.equal(true);
    }
    expect(new Set(answers.map((a) => a.body.transaction)).size).to.equal(1);
    const again = await facilitator("settle", body);
    expect(again.body).to.deep.equal(answers[0]!.body);
    expect(await api.balanceOf(payTo)).to.equal(before + PRICE);
    // Verifying it now says what is true: it was used.
    const verify = await facilitator("verify", body);
    expect(verify.body).to.include({ isValid: false, invalidReason: "invalid_exact_evm_nonce_already_used" });
  });

  it("honours the payment-identifier extension: the same id with another payment is 409, with the same payment the first answer", async () => {
    const extensions = {
      "payment-identifier": { info: { required: false, id: `pay_${randomAuthorizationNonce().slice(2, 26)}` } },
    };
    const first = await signed({ extensions });
    const settled = await facilitator("settle", first);
    expect(settled.body.success).to.equal(true);
    expect((await facilitator("settle", first)).body).to.deep.equal(settled.body);
    const other = await signed({ extensions });
    const conflict = await facilitator("settle", other);
    expect(conflict.status).to.equal(409);
    expect(conflict.body).to.include({ success: false, errorReason: "payment_identifier_conflict" });
  });

  describe("POST /verify refuses with the specification's reasons, and nothing moves", () => {
    const refusals: [string, () => Promise<unknown>, string][] = [];
    const cases = (name: string, build: () => Promise<unknown>, reason: string) => refusals.push([name, build, reason]);
    cases(
      "a wrong amount",
      () => signed({ value: PRICE - 1n }),
      "invalid_exact_evm_payload_authorization_value_mismatch",
    );
    cases("a wrong recipient", () => signed({ to: payer.address }), "invalid_exact_evm_recipient_mismatch");
    cases(
      "an expired authorization",
      async () => signed({ validBefore: (await api.app.services.tokenReads.chainTime()) - 1n }),
      "invalid_exact_evm_payload_authorization_valid_before",
    );
    cases(
      "a not-yet-valid authorization",
      async () => signed({ validAfter: (await api.app.services.tokenReads.chainTime()) + 3_600n }),
      "invalid_exact_evm_payload_authorization_valid_after",
    );
    cases(
      "a bad signature (another key signed for the payer)",
      () => signed({ from: payer.address, signer: privateKeyToAccount(generatePrivateKey()) }),
      "invalid_exact_evm_signature",
    );
    cases(
      "an insufficient balance",
      () => signed({ signer: privateKeyToAccount(generatePrivateKey()) }),
      "invalid_exact_evm_insufficient_balance",
    );
    cases(
      "another chain",
      async () => ({ ...(await signed()), paymentRequirements: { ...requirements(), network: "eip155:1" } }),
      "invalid_network",
    );
    cases(
      "another token",
      async () => ({ ...(await signed()), paymentRequirements: { ...requirements(), asset: payTo } }),
      "invalid_payment_requirements",
    );
    cases(
      "a wrong EIP-712 domain name",
      async () => ({
        ...(await signed()),
        paymentRequirements: { ...requirements(), extra: { name: "USD Coin", version: "1" } },
      }),
      "invalid_exact_evm_token_name_mismatch",
    );
    cases(
      "another scheme",
      async () => ({ ...(await signed()), paymentRequirements: { ...requirements(), scheme: "upto" } }),
      "unsupported_scheme",
    );
    cases(
      "a malformed payload",
      async () => {
        const body = await signed();
        return {
          ...body,
          paymentPayload: { ...body.paymentPayload, payload: { signature: "0x12", authorization: { from: "nope" } } },
        };
      },
      "invalid_payload",
    );
    cases("another x402 version", async () => ({ ...(await signed()), x402Version: 1 }), "invalid_x402_version");
    cases(
      "a payTo that is not the merchant's wallet",
      async () => {
        const body = await signed({ to: payer.address });
        const wanted = { ...requirements(), payTo: payer.address };
        return { ...body, paymentRequirements: wanted, paymentPayload: { ...body.paymentPayload, accepted: wanted } };
      },
      "pay_to_not_merchant_wallet",
    );

    for (const [name, build, reason] of refusals) {
      it(`${name}: ${reason}`, async () => {
        const body = await build();
        const before = await api.balanceOf(payTo);
        const verify = await facilitator("verify", body);
        expect(verify.status, JSON.stringify(verify.body)).to.equal(200);
        expect(verify.body, JSON.stringify(verify.body)).to.include({ isValid: false, invalidReason: reason });
        expect(verify.body.invalidMessage).to.be.a("string");
        const settle = await facilitator("settle", body);
        expect(settle.body, JSON.stringify(settle.body)).to.include({
          success: false,
          errorReason: reason,
          transaction: "",
        });
        expect(await api.balanceOf(payTo)).to.equal(before);
      });
    }

    it("a used nonce: invalid_exact_evm_nonce_already_used", async () => {
      const body = await signed();
      expect((await facilitator("settle", body)).body.success).to.equal(true);
      const reused = await signed({ nonce: (body.paymentPayload.payload.authorization as { nonce: Hex }).nonce });
      expect((await facilitator("verify", reused)).body).to.include({
        isValid: false,
        invalidReason: "invalid_exact_evm_nonce_already_used",
      });
      expect((await facilitator("settle", reused)).body).to.include({
        success: false,
        errorReason: "invalid_exact_evm_nonce_already_used",
      });
    });

    it("a frozen payer or recipient: account_frozen", async () => {
      const freezer = api.roles.token.connect(api.roles.freezer);
      await (await freezer.freeze(payer.address)).wait();
      try {
        const body = await signed();
        expect((await facilitator("verify", body)).body).to.include({
          isValid: false,
          invalidReason: "account_frozen",
        });
        expect((await facilitator("settle", body)).body).to.include({ success: false, errorReason: "account_frozen" });
      } finally {
        await (await freezer.unfreeze(payer.address)).wait();
      }
    });
  });

  it("refuses other roles and other merchants' wallets: a third party cannot settle a payment to itself", async () => {
    const user = await api.createUser("user", "not a merchant");
    expect((await facilitator("verify", await signed(), user.key)).status).to.equal(403);
    // Another merchant tries to settle the payer's authorization for our merchant: payTo is not its wallet.
    const thief = await api.createUser("merchant", "thief");
    const body = await signed();
    const before = await api.balanceOf(payTo);
    const stolen = await facilitator("settle", body, thief.key);
    expect(stolen.body).to.include({ success: false, errorReason: "pay_to_not_merchant_wallet" });
    expect(await api.balanceOf(payTo)).to.equal(before);
  });
});
