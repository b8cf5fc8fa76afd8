import { expect } from "chai";

import { databaseRefusalOf, isDatabaseUnavailable, isRedisUnavailable } from "../../../api/errors/dependency-errors.ts";

/** An error as drizzle wraps a driver's: the driver's error is the cause. */
const wrapped = (cause: Error) => Object.assign(new Error("Failed query: select 1\nparams: "), { cause });
const pgError = (code: string, message = "x") => Object.assign(new Error(message), { code });

describe("dependency error classification", () => {
  it("tells a lost or refused database connection, wrapped or not", () => {
    for (const error of [
      pgError("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:5432"),
      new Error("Connection terminated unexpectedly"),
      pgError("57P01", "terminating connection due to administrator command"),
      pgError("08006", "connection failure"),
      pgError("53300", "sorry, too many clients already"),
      new Error("timeout exceeded when trying to connect"),
    ]) {
      expect(isDatabaseUnavailable(error), error.message).to.equal(true);
      expect(isDatabaseUnavailable(wrapped(error)), `wrapped ${error.message}`).to.equal(true);
    }
    expect(isDatabaseUnavailable(pgError("23505", "duplicate key"))).to.equal(false);
    expect(isDatabaseUnavailable(new Error("boom"))).to.equal(false);
  });

  it("tells a database refusal the request's values caused from anything else", () => {
    expect(databaseRefusalOf(wrapped(pgError("22003", "value out of range for type bigint")))).to.equal("data");
    expect(databaseRefusalOf(wrapped(pgError("22021", "invalid byte sequence for encoding UTF8: 0x00")))).to.equal(
      "data",
    );
    expect(databaseRefusalOf(pgError("23505", "duplicate key value"))).to.equal("unique");
    expect(databaseRefusalOf(pgError("42P01", "relation does not exist"))).to.equal(undefined);
    expect(databaseRefusalOf(pgError("ECONNREFUSED"))).to.equal(undefined);
  });

  it("tells an unreachable Redis", () => {
    expect(isRedisUnavailable(Object.assign(new Error("x"), { name: "MaxRetriesPerRequestError" }))).to.equal(true);
    expect(isRedisUnavailable(new Error("Stream isn't writeable and enableOfflineQueue options is false"))).to.equal(
      true,
    );
    expect(isRedisUnavailable(new Error("WRONGTYPE Operation against a key"))).to.equal(false);
  });
});
