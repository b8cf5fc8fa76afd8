/**
 * lib/db/pglite-bind.ts against PGlite's own serializer: the same bytes for Bind + Execute + Sync, for
 * every kind of parameter (text in one to four UTF-8 bytes per character, surrogate pairs, NULL, raw
 * bytes, none at all, large ones) and for random ones; and a statement the real engine runs with them.
 */
import { randomBytes, randomInt } from "node:crypto";

import { PGlite, protocol } from "@electric-sql/pglite";
import { expect } from "chai";

import { bindExecuteSync, type BindValue } from "../../lib/db/pglite-bind.ts";
import { pgliteSerializerBindExecuteSync } from "../helpers/pglite-serializer.ts";

const { serialize } = protocol;

const expectSameBytes = (statement: string, values: BindValue[]) =>
  expect(
    Buffer.from(bindExecuteSync(statement, values)).equals(pgliteSerializerBindExecuteSync(statement, values)),
  ).to.equal(true, `${statement} ${JSON.stringify(values).slice(0, 200)}`);

// Characters of one, two, three and four UTF-8 bytes (the last a surrogate pair in UTF-16).
const ALPHABET = ["a", "Z", "0", '"', "\\", "{", "é", "ß", "€", "中", "\u0000", "😀", "𝄞"];
const randomText = (length: number) => Array.from({ length }, () => ALPHABET[randomInt(ALPHABET.length)]).join("");

describe("PGlite's Bind written by our encoder (lib/db/pglite-bind.ts)", () => {
  it("writes the bytes PGlite's serializer writes, for each kind of parameter", () => {
    expectSameBytes("stablerail_1", []);
    expectSameBytes("stablerail_2", ["0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "1", ""]);
    expectSameBytes("stablerail_3", [null, "x", null]);
    expectSameBytes("stablerail_4", ["é", "€ 100", "中文", "😀 and 𝄞", '{"a":"\\"b\\""}']);
    expectSameBytes("stablerail_5", [Uint8Array.of(0, 1, 2, 255), "text beside bytes", new Uint8Array(0)]);
    // A view into a larger buffer sends only its own bytes.
    const backing = Uint8Array.of(9, 9, 1, 2, 3, 9);
    expectSameBytes("stablerail_6", [backing.subarray(2, 5)]);
    // The writer's batch: a few array literals of hundreds of kilobytes.
    const literal = `{${Array.from({ length: 20_000 }, (_, i) => `"0x${i.toString(16).padStart(64, "0")}"`).join(",")}}`;
    expectSameBytes("stablerail_7", [literal, literal.replace(/0x/g, "0X"), "1"]);
  });

  it("writes the bytes PGlite's serializer writes, for random parameters", () => {
    for (let round = 0; round < 500; round++) {
      const values: BindValue[] = Array.from({ length: randomInt(0, 12) }, () => {
        const kind = randomInt(10);
        if (kind === 0) return null;
        if (kind === 1) return randomBytes(randomInt(0, 40));
        return randomText(randomInt(0, kind === 9 ? 5_000 : 60));
      });
      expectSameBytes(`stablerail_${randomInt(1, 1_000_000)}`, values);
    }
  });

  it("sends a lone surrogate as U+FFFD, a character PostgreSQL accepts", () => {
    const bytes = Buffer.from(bindExecuteSync("s", ["a\uD800b"]));
    // The value's length (5: a, EF BF BD, b) and its bytes end the Bind, before its result format count.
    const end = bytes.length - 15 - 2;
    expect(bytes.readInt32BE(end - 9)).to.equal(5);
    expect(bytes.subarray(end - 5, end).equals(Buffer.from([0x61, 0xef, 0xbf, 0xbd, 0x62]))).to.equal(true);
  });

  it("is what the engine runs: a prepared statement bound with it answers with the same values", async function () {
    this.timeout(30_000);
    const pglite = await PGlite.create();
    try {
      await pglite.execProtocolStream(
        Buffer.concat([
          serialize.parse({
            name: "echo",
            text: "SELECT $1::text AS t, $2::text AS n, octet_length($3::bytea) AS b",
            types: [],
          }),
          serialize.sync(),
        ]),
      );
      const values = ["€ and 😀", null, Uint8Array.of(1, 2, 3)];
      const messages = await pglite.execProtocolStream(bindExecuteSync("echo", values));
      const row = messages.find((message) => message.name === "dataRow") as unknown as { fields: (string | null)[] };
      expect(row.fields).to.deep.equal(["€ and 😀", null, "3"]);
    } finally {
      await pglite.close();
    }
  });

  it("refuses more parameters than the protocol can count", () => {
    expect(() => bindExecuteSync("s", new Array<null>(65_536).fill(null))).to.throw(RangeError, /65,535/);
  });
});
