import { readFile } from "node:fs/promises";

import { expect } from "chai";

import { getAddress } from "viem";

import { apiEnv } from "../../lib/config/api.ts";
import { loadConfig } from "../../lib/config/env-section.ts";
import { chainEnv, commonEnv, databaseEnv, redisEnv } from "../../lib/config/sections.ts";
import { ConfigError } from "../../lib/errors/config-error.ts";
import { envExamplePath, renderEnvExample } from "../../scripts/generate-env-example.ts";

describe("loadConfig", () => {
  it("applies every default when the environment is empty", () => {
    const config = loadConfig({ chain: chainEnv, database: databaseEnv, redis: redisEnv }, {});
    expect(config.chain.rpcUrl).to.equal("http://127.0.0.1:8545");
    expect(config.chain.chainId).to.equal(31337);
    expect(config.database.url).to.equal(undefined);
    expect(config.database.schema).to.equal("stablerail");
    expect(config.redis.url).to.equal("redis://127.0.0.1:6379");
  });

  it("treats an empty string as unset", () => {
    const config = loadConfig({ database: databaseEnv }, { DATABASE_URL: "" });
    expect(config.database.url).to.equal(undefined);
  });

  it("parses and converts values", () => {
    const config = loadConfig(
      { chain: chainEnv, database: databaseEnv },
      { CHAIN_ID: "8453", DATABASE_URL: "postgres://u@h:5432/db", DATABASE_POOL_SIZE: "3" },
    );
    expect(config.chain.chainId).to.equal(8453);
    expect(config.database.url).to.equal("postgres://u@h:5432/db");
    expect(config.database.poolSize).to.equal(3);
  });

  it("throws a ConfigError that names every bad variable and what is wrong", () => {
    let caught: unknown;
    try {
      loadConfig(
        { common: commonEnv, chain: chainEnv, database: databaseEnv },
        { CHAIN_ID: "-4", DATABASE_URL: "mysql://x", LOG_LEVEL: "loud" },
      );
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(ConfigError);
    const error = caught as ConfigError;
    expect(error.code).to.equal("CONFIG_INVALID");
    expect(error.issues.map((issue) => issue.variable).sort()).to.deep.equal(["CHAIN_ID", "DATABASE_URL", "LOG_LEVEL"]);
    expect(error.message).to.contain("DATABASE_URL: must be a postgres:// or postgresql:// URL");
  });

  it("takes a platform fee only with a receiver, and none by default", () => {
    expect(loadConfig({ api: apiEnv }, {}).api.paymentFee).to.equal(undefined);
    const receiver = "0x000000000000000000000000000000000000fEE5";
    expect(
      loadConfig({ api: apiEnv }, { API_PAYMENT_FEE_BPS: "250", API_PAYMENT_FEE_RECEIVER: receiver.toLowerCase() }).api
        .paymentFee,
    ).to.deep.equal({ bps: 250, receiver: getAddress(receiver) });
    for (const [env, variable] of [
      [{ API_PAYMENT_FEE_BPS: "250" }, "API_PAYMENT_FEE_RECEIVER"],
      [{ API_PAYMENT_FEE_BPS: "10001", API_PAYMENT_FEE_RECEIVER: receiver }, "API_PAYMENT_FEE_BPS"],
      [{ API_PAYMENT_FEE_BPS: "2.5", API_PAYMENT_FEE_RECEIVER: receiver }, "API_PAYMENT_FEE_BPS"],
      [{ API_PAYMENT_FEE_BPS: "1", API_PAYMENT_FEE_RECEIVER: "0x1234" }, "API_PAYMENT_FEE_RECEIVER"],
    ] as const) {
      let caught: unknown;
      try {
        loadConfig({ api: apiEnv }, env);
      } catch (error) {
        caught = error;
      }
      expect(caught, JSON.stringify(env)).to.be.instanceOf(ConfigError);
      expect((caught as ConfigError).issues.map((issue) => issue.variable)).to.deep.equal([variable]);
    }
  });
});

describe(".env.example", () => {
  it("documents exactly the variables the schemas parse (regenerate with npm run env:example)", async () => {
    expect(await readFile(envExamplePath, "utf8")).to.equal(renderEnvExample());
  });
});
