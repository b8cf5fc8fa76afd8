import { readdir } from "node:fs/promises";
import { tmpdir } from "node:os";

import { expect } from "chai";
import { sql } from "drizzle-orm";

import { createTestDatabase } from "../helpers/database.ts";

/** The PGlite data folders of test databases now in the temporary folder. */
const dataFolders = async () => (await readdir(tmpdir())).filter((name) => name.startsWith("stablerail-pglite-"));

/**
 * The benchmarks measure PGlite on disk, where `npm start` keeps it (bench/lib/pglite-storage.ts): the test
 * helper must then really open it in a data folder, and leave nothing behind.
 */
describe("Test databases: where PGlite keeps them", () => {
  const saved = process.env.TEST_PGLITE_STORAGE;
  afterEach(() => {
    if (saved === undefined) delete process.env.TEST_PGLITE_STORAGE;
    else process.env.TEST_PGLITE_STORAGE = saved;
  });

  it("on disk, in a data folder of its own that holds the database's files and is removed when it is dropped", async () => {
    process.env.TEST_PGLITE_STORAGE = "disk";
    const before = await dataFolders();
    const database = await createTestDatabase("pglite", "storage_disk");
    try {
      const created = (await dataFolders()).filter((name) => !before.includes(name));
      expect(created).to.have.length(1);
      // A PostgreSQL data directory: its version file and its write-ahead log.
      expect(await readdir(`${tmpdir()}/${created[0]}`)).to.include.members(["PG_VERSION", "pg_wal"]);
      await database.query(sql`CREATE TABLE kept (n integer)`);
      await database.query(sql`INSERT INTO kept VALUES (1)`);
      expect(await database.query(sql`SELECT n FROM kept`)).to.deep.equal([{ n: 1 }]);
    } finally {
      await database.drop();
    }
    expect(await dataFolders()).to.deep.equal(before);
  });

  it("in memory by default: no data folder", async () => {
    delete process.env.TEST_PGLITE_STORAGE;
    const before = await dataFolders();
    const database = await createTestDatabase("pglite", "storage_memory");
    try {
      expect(await dataFolders()).to.deep.equal(before);
    } finally {
      await database.drop();
    }
  });

  it("refuses a storage it does not know", async () => {
    process.env.TEST_PGLITE_STORAGE = "tape";
    let error: Error | undefined;
    await createTestDatabase("pglite", "storage_unknown").catch((caught: Error) => (error = caught));
    expect(error?.message).to.equal("TEST_PGLITE_STORAGE must be memory or disk, not tape");
  });
});
