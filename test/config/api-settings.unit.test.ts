import { expect } from "chai";

import { apiEnv } from "../../lib/config/api.ts";
import { loadConfig } from "../../lib/config/env-section.ts";
import { ConfigError } from "../../lib/errors/config-error.ts";

/** Issue 11, defect 9: a configured bootstrap admin key must be one that can log in. */
describe("API settings", () => {
  const problemsOf = (env: Record<string, string>) => {
    try {
      loadConfig({ api: apiEnv }, env);
      return [];
    } catch (error) {
      expect(error).to.be.instanceOf(ConfigError);
      return (error as ConfigError).issues.map((issue) => issue.variable);
    }
  };

  it("refuses an API_BOOTSTRAP_ADMIN_KEY that is not an sr_key_ credential, however long", () => {
    for (const key of [
      "x".repeat(40),
      `sr_sess_${"a".repeat(43)}`,
      `sr_key_${"a".repeat(20)}`,
      `sr_key_${"a".repeat(42)}!`,
    ]) {
      expect(problemsOf({ API_BOOTSTRAP_ADMIN_KEY: key }), key).to.deep.equal(["API_BOOTSTRAP_ADMIN_KEY"]);
    }
  });

  it("accepts a key in the form the API issues", () => {
    const key = `sr_key_${Buffer.alloc(32, 7).toString("base64url")}`;
    expect(loadConfig({ api: apiEnv }, { API_BOOTSTRAP_ADMIN_KEY: key }).api.bootstrapAdminKey).to.equal(key);
  });

  it("takes the public origin as an origin and refuses a path or another scheme", () => {
    expect(loadConfig({ api: apiEnv }, { API_PUBLIC_ORIGIN: "https://wallet.example.com/" }).api.publicOrigin).to.equal(
      "https://wallet.example.com",
    );
    expect(problemsOf({ API_PUBLIC_ORIGIN: "https://wallet.example.com/app" })).to.deep.equal(["API_PUBLIC_ORIGIN"]);
    expect(problemsOf({ API_PUBLIC_ORIGIN: "ftp://wallet.example.com" })).to.deep.equal(["API_PUBLIC_ORIGIN"]);
    expect(problemsOf({ API_CORS_ORIGINS: "https://a.example, https://b.example/x" })).to.deep.equal([
      "API_CORS_ORIGINS",
    ]);
  });
});
