import { expect } from "chai";
import { privateKeyToAccount } from "viem/accounts";

import { HARDHAT_PRIVATE_KEYS } from "../helpers/chain.ts";
import { ADMIN_KEY, createApiFixture, type ApiFixture } from "./helpers/api-fixture.ts";

/**
 * Issue 12, items 2 and 3: SIWE nonces are unpredictable, bound to whoever asked, consumed only by
 * a valid signature and expiring; a message must name our origin (API_PUBLIC_ORIGIN), the chain and
 * a fresh issuedAt.
 */
describe("Sign-In with Ethereum", () => {
  let api: ApiFixture;
  let owner: { id: string; key: string };
  const dave = privateKeyToAccount(HARDHAT_PRIVATE_KEYS[9]);
  const mallory = privateKeyToAccount(HARDHAT_PRIVATE_KEYS[7]);

  const signIn = ({ message, signature }: { message: string; signature: string }, remoteAddress?: string) =>
    api.request("POST", "/v1/auth/siwe", { body: { message, signature }, ...(remoteAddress ? { remoteAddress } : {}) });
  const expectRefused = (response: { status: number; body: { error: { code: string } } }, code: string) => {
    expect(response.status, JSON.stringify(response.body)).to.equal(401);
    expect(response.body.error.code).to.equal(code);
  };

  before(async () => {
    api = await createApiFixture("siwe");
    owner = await api.createUser("user", "dave");
    await api.registerSelfCustody(owner.key, dave);
  });
  after(async () => {
    await api.close();
  });

  it("issues 128-bit nonces from a CSPRNG: no nonce is derived from the previous one", async () => {
    const nonces: string[] = [];
    for (let i = 0; i < 5; i++) nonces.push((await api.request("GET", "/v1/auth/siwe/nonce")).body.nonce);
    for (const nonce of nonces) expect(nonce).to.match(/^[0-9a-f]{32}$/);
    for (let i = 1; i < nonces.length; i++) {
      // viem's generateSiweNonce shifted the previous nonce by one character; these share no 8-character run.
      const previous = nonces[i - 1]!;
      const shared = [...Array(previous.length - 7).keys()].some((at) =>
        nonces[i]!.includes(previous.slice(at, at + 8)),
      );
      expect(shared, `${previous} / ${nonces[i]}`).to.equal(false);
    }
    expect(new Set(nonces).size).to.equal(nonces.length);
  });

  it("names the domain, URI and chain id the message must carry, and expires the nonce after 5 minutes", async () => {
    const issued = (await api.request("GET", "/v1/auth/siwe/nonce")).body;
    expect(issued).to.include({ domain: "localhost:3000", uri: "http://localhost:3000", chainId: 31337, version: "1" });
    expect(new Date(issued.expiresAt).getTime() - new Date(issued.issuedAt).getTime()).to.equal(300_000);
    const ttl = await api.redis.ttl(`${api.redisPrefix}:siwe:${issued.nonce}`);
    expect(ttl).to.be.within(290, 300);
  });

  it("consumes a nonce only with a valid signature: a wrong signer cannot burn it", async () => {
    const proof = await api.signInWithEthereum(dave);
    expectRefused(
      await signIn({ message: proof.message, signature: await mallory.signMessage({ message: proof.message }) }),
      "SIWE_MESSAGE_INVALID",
    );
    const signedIn = await signIn(proof);
    expect(signedIn.status, JSON.stringify(signedIn.body)).to.equal(201);
    expect((await api.request("GET", "/v1/users/me", { key: signedIn.body.token })).body.id).to.equal(owner.id);
    expectRefused(await signIn(proof), "SIWE_NONCE_INVALID");
  });

  it("binds a nonce to whoever asked: another address or another principal cannot use it", async () => {
    const fromOneAddress = await api.signInWithEthereum(dave, { remoteAddress: "10.1.0.1" });
    expectRefused(await signIn(fromOneAddress, "10.1.0.2"), "SIWE_NONCE_INVALID");
    expect((await signIn(fromOneAddress, "10.1.0.1")).status).to.equal(201);

    const eve = await api.createUser("user", "eve");
    const erin = privateKeyToAccount(HARDHAT_PRIVATE_KEYS[6]);
    const askedByEve = await api.signInWithEthereum(erin, { key: eve.key });
    const asOwner = await api.request("POST", "/v1/wallets/self-custody", {
      key: owner.key,
      body: { message: askedByEve.message, signature: askedByEve.signature },
    });
    expectRefused(asOwner, "SIWE_NONCE_INVALID");
    const anonymous = await api.signInWithEthereum(erin);
    expectRefused(
      await api.request("POST", "/v1/wallets/self-custody", {
        key: eve.key,
        body: { message: anonymous.message, signature: anonymous.signature },
      }),
      "SIWE_NONCE_INVALID",
    );
  });

  for (const [title, overrides, reason] of [
    ["another chain id", { chainId: 1 }, "chain id must be 31337"],
    ["a bare host as domain", { domain: "localhost" }, "domain must be localhost:3000"],
    ["another site's domain", { domain: "evil.example" }, "domain must be localhost:3000"],
    ["a URI on another origin", { uri: "https://evil.example/login" }, "uri must be on http://localhost:3000"],
    ["an issuedAt in the future", { issuedAt: new Date(Date.now() + 3_600_000) }, "issuedAt is in the future"],
    ["an issuedAt an hour old", { issuedAt: new Date(Date.now() - 3_600_000) }, "issuedAt is older than 300 seconds"],
    ["an expirationTime passed", { expirationTime: new Date(Date.now() - 1_000) }, "the message has expired"],
    ["a notBefore ahead", { notBefore: new Date(Date.now() + 3_600_000) }, "the message is not valid yet (notBefore)"],
  ] as const) {
    it(`refuses a message with ${title}, and leaves its nonce usable`, async () => {
      const bad = await api.signInWithEthereum(dave, { overrides });
      const refused = await signIn(bad);
      expectRefused(refused, "SIWE_MESSAGE_INVALID");
      expect(refused.body.error.details.reason).to.equal(reason);
      expect(await api.redis.exists(`${api.redisPrefix}:siwe:${bad.nonce}`)).to.equal(1);
    });
  }

  it("refuses to sign a frozen owner in", async () => {
    expect(
      (await api.request("POST", `/v1/users/${owner.id}/freeze`, { key: ADMIN_KEY, body: { frozen: true } })).status,
    ).to.equal(200);
    try {
      const refused = await signIn(await api.signInWithEthereum(dave));
      expect(refused.status).to.equal(403);
      expect(refused.body.error.code).to.equal("ACCOUNT_FROZEN");
    } finally {
      await api.request("POST", `/v1/users/${owner.id}/freeze`, { key: ADMIN_KEY, body: { frozen: false } });
    }
  });
});
