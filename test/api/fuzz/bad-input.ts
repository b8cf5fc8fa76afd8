/**
 * fast-check arbitraries of the inputs an outside client can send: the classes the security test
 * of issue 12 used (wrong types, missing and extra fields, huge and negative numbers, decimals,
 * exponent strings, unicode and control characters including NUL, long strings, deep JSON, wrong
 * content types, bad addresses, signatures, cursors and Idempotency-Keys), mixed with plausible
 * values (real ids, known addresses, small amounts) so requests also get past the first check.
 */
import fc from "fast-check";
import type { JsonSchema, Operation } from "./openapi-operations.ts";

/** Real values of the fixture the generators draw from, so ids, keys and addresses hit real rows. */
export type FuzzPools = {
  /** Values for a path/query parameter or body field by its name (walletId, paymentRequestId, …). */
  idsByName: Record<string, string[]>;
  /** Any real id of any kind (used where a name has no pool of its own). */
  anyIds: string[];
  addresses: string[];
  /** Authorization header values: every role's key and session, bad ones too (undefined: none). */
  authorizations: (string | undefined)[];
};

const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";

/**
 * Strings that have broken parsers somewhere, by class of the list. A generator picks the
 * class first, so a class of two members is tried as often as one of twenty.
 */
export const BAD_STRING_CLASSES: Readonly<Record<string, readonly string[]>> = {
  control: ["\u0000", "a\u0000b", "\u0000".repeat(8), "\r\n\t", "\u0007", "\u001b[31m"],
  unicode: ["\u202eevil", "💥🧨", "\ud800", "é\u0301", "\ufeff1", "１２３"],
  empty: ["", " ", "   "],
  long: ["x".repeat(101), "x".repeat(129), "x".repeat(5_000)],
  numberLookalikes: ["-1", "-0", "01", "+1", " 1", "1 ", "1e1", "1E+30", "1.5", "0.0", "0x10", "NaN", "Infinity"],
  hugeNumbers: [
    "9".repeat(79),
    "115792089237316195423570985008687907853269984665640564039457584007913129639936",
    "9223372036854775808",
    "-9223372036854775809",
    "99999999999999999999",
  ],
  injection: ["null", "true", "[object Object]", "<script>alert(1)</script>", "' OR 1=1 --", "../../../etc/passwd"],
  percentEncoding: ["%00", "%ZZ", "%", "%C0%AF", "a%2Fb"],
  cursors: [
    "czo5OTk5OTk5OTk5OTk5OTk5OTk5OQ",
    "czot",
    "eyJ4IjoxfQ",
    "Zm9v",
    "====",
    "czo5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5",
  ],
  uuids: [
    "00000000-0000-0000-0000-000000000000",
    "ffffffff-ffff-ffff-ffff-ffffffffffff",
    "00000000-0000-4000-8000-000000000000",
  ],
  addresses: [
    "0x",
    `0x${"g".repeat(40)}`,
    ZERO_ADDRESS,
    // Mixed case with a wrong EIP-55 checksum (the valid one is 0xf39Fd6…, capital F).
    "0xf39fd6e51aad88F6F4ce6aB8827279cffFb92266",
    "0xF39FD6E51AAD88F6F4CE6AB8827279CFFFB92266",
    `0x${"1".repeat(39)}`,
  ],
  signatures: [`0x${"00".repeat(65)}`, `0x${"ff".repeat(65)}`, `0x${"ab".repeat(64)}`, `0x${"00".repeat(32)}`, "0xzz"],
};

/** Every bad string, flat. */
export const BAD_STRINGS: readonly string[] = Object.values(BAD_STRING_CLASSES).flat();

/** JSON values of the wrong type for almost any field. */
const BAD_VALUES: readonly unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  1e308,
  -1e308,
  2 ** 53 + 2,
  [],
  {},
  [1, 2],
  { $gt: "" },
  { nested: { deeper: { deepest: [] } } },
];

/** Idempotency-Key header values: none, fresh valid ones, and every malformed kind. */
export const idempotencyKeyArb: fc.Arbitrary<string | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.uuid().map((uuid) => `fuzz-${uuid}`),
  fc.constantFrom("", " ", "a", "x".repeat(129), "x".repeat(500), "has space", "ünïcödé", "a:b", "12345", "-"),
);

/** Content types a body is sent with (undefined: none). */
const contentTypeArb = fc.constantFrom<string | undefined>(
  "application/json",
  "application/json",
  "application/json",
  "application/json; charset=utf-8",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/xml",
  "application/json; charset=latin1",
  "garbage",
  undefined,
);

/** Bodies that are not a JSON document of the schema at all. */
const rawBodyArb = fc.constantFrom(
  "",
  "{",
  "not json",
  "null",
  "[]",
  '"a string"',
  "1e999",
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  `${"[".repeat(10_000)}${"]".repeat(10_000)}`,
  `${'{"a":'.repeat(2_000)}1${"}".repeat(2_000)}`,
  `{"a":"${"x".repeat(2_000_000)}"}`,
  "\u0000",
  '{"a":"\\u0000"}',
);

const badStringArb = fc
  .constantFrom(...Object.values(BAD_STRING_CLASSES))
  .chain((members) => fc.constantFrom(...members));
const badValueArb = fc.oneof(
  badStringArb,
  fc.constantFrom(...BAD_VALUES),
  fc.string({ unit: "binary", maxLength: 40 }),
);

/** A value the schema's name or format suggests: a real id, a known address, a small amount. */
function plausibleString(name: string, schema: JsonSchema, pools: FuzzPools): fc.Arbitrary<unknown> {
  const named = pools.idsByName[name];
  if (named && named.length > 0) return fc.constantFrom(...named);
  if (schema.enum && schema.enum.length > 0) return fc.constantFrom(...schema.enum);
  if (schema.format === "uuid") return fc.oneof(fc.constantFrom(...pools.anyIds), fc.uuid());
  const lower = name.toLowerCase();
  if (/(^to$|address|payer|merchant|counterparty|receiver|token)/.test(lower))
    return fc.constantFrom(...pools.addresses, ...pools.addresses.map((address) => address.toLowerCase()));
  if (/(amount|block|time|valid|limit)/.test(lower))
    return fc.oneof(fc.constantFrom("1", "2", "100", "1000000"), fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String));
  if (/(signature)/.test(lower)) return fc.constantFrom(`0x${"11".repeat(65)}`, `0x${"1b".repeat(65)}`);
  if (/(nonce|batchid|hash)/.test(lower)) return fc.constantFrom(`0x${"22".repeat(32)}`, `0x${"33".repeat(32)}`);
  if (/(url)/.test(lower))
    return fc.constantFrom("http://127.0.0.1:9/hook", "https://example.invalid/x", "http://169.254.169.254/");
  return fc.string({ maxLength: 30 });
}

/**
 * A JSON value for a schema node: a plausible one (recursing into objects and arrays, required
 * fields usually present, an extra field sometimes) or one of the bad classes.
 * @param schema - the node of the operation's body schema
 * @param name - the property name it sits under (picks the pool of plausible values)
 */
export function valueArb(schema: JsonSchema, name: string, pools: FuzzPools, depth = 0): fc.Arbitrary<unknown> {
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives && alternatives.length > 0 && depth < 4)
    return fc.oneof(...alternatives.map((alternative) => valueArb(alternative, name, pools, depth + 1)));
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  let plausible: fc.Arbitrary<unknown>;
  if ((type === "object" || schema.properties) && depth < 4) {
    const properties = Object.entries(schema.properties ?? {});
    const required = new Set(schema.required ?? []);
    plausible = fc
      .tuple(
        ...properties.map(([key, property]) =>
          fc.tuple(
            fc.constant(key),
            // Required fields are kept nine times in ten, optional ones half the time.
            fc.integer({ min: 0, max: 9 }).map((roll) => roll < (required.has(key) ? 9 : 5)),
            valueArb(property, key, pools, depth + 1),
          ),
        ),
        fc.option(fc.tuple(fc.constantFrom("role", "userId", "admin", "__proto__", "extra", ""), badValueArb), {
          freq: 4,
        }),
      )
      .map(([...parts]) => {
        const extra = parts.pop() as [string, unknown] | null;
        const object: Record<string, unknown> = {};
        for (const [key, keep, value] of parts as [string, boolean, unknown][]) if (keep) object[key] = value;
        if (extra) Object.defineProperty(object, extra[0], { value: extra[1], enumerable: true });
        return object;
      });
  } else if (type === "array" && depth < 4) {
    plausible = fc.array(valueArb(schema.items ?? {}, name, pools, depth + 1), { maxLength: 3 });
  } else if (type === "integer" || type === "number") {
    plausible = fc.oneof(fc.integer({ min: -2, max: 3 }), fc.constantFrom(2 ** 31, 2 ** 53 - 1, 0.5, -0));
  } else if (type === "boolean") {
    plausible = fc.boolean();
  } else {
    plausible = plausibleString(name, schema, pools);
  }
  return fc.oneof({ arbitrary: plausible, weight: 3 }, { arbitrary: badValueArb, weight: 1 });
}

/** One request as the fuzzer sends it through `app.inject`. */
export type FuzzRequest = {
  method: Operation["method"];
  url: string;
  headers: Record<string, string>;
  payload: string | undefined;
};

/**
 * Encodes a path or query value: usually percent-encoded, sometimes raw as a careless client sends
 * it. A lone surrogate cannot be UTF-8: it goes as U+FFFD, as a browser would send it.
 */
const encoded = (value: string, raw: boolean) => {
  const wellFormed = Buffer.from(value, "utf8").toString("utf8");
  return raw ? wellFormed.replace(/[\s#?/]/g, encodeURIComponent) : encodeURIComponent(wellFormed);
};

/** A string for a path or query parameter: plausible (from the pools) or bad. */
function parameterArb(name: string, schema: JsonSchema, pools: FuzzPools): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: plausibleString(name, schema, pools).map(String), weight: 2 },
    { arbitrary: badStringArb, weight: 2 },
    { arbitrary: fc.string({ unit: "binary", maxLength: 20 }), weight: 1 },
  );
}

/**
 * Requests for one operation: its path with real or bad ids, its documented query parameters
 * (absent, plausible, bad) and an unknown one now and then, a credential of any role (or none or a
 * forged one), an Idempotency-Key of any kind, and a body of the schema, of the wrong schema, of
 * the wrong content type or no JSON at all.
 * @param operation - from {@link operationsOf}
 * @param pools - the fixture's real ids, addresses and credentials
 */
export function requestArb(operation: Operation, pools: FuzzPools): fc.Arbitrary<FuzzRequest> {
  const pathParameters = operation.parameters.filter((parameter) => parameter.in === "path");
  const queryParameters = operation.parameters.filter((parameter) => parameter.in === "query");
  const takesBody = operation.method !== "GET" && operation.method !== "DELETE";
  return fc
    .record({
      path: fc.tuple(...pathParameters.map((p) => parameterArb(p.name, p.schema, pools)), fc.constant("")),
      query: fc.tuple(
        ...queryParameters.map((p) =>
          fc.option(parameterArb(p.name, p.schema, pools), { freq: p.required ? 6 : 2, nil: undefined }),
        ),
        fc.constant(undefined),
      ),
      extraQuery: fc.option(fc.constantFrom("limit=1e1", "cursor=%00", "x=1", "block=-1", "a[b]=1"), { freq: 5 }),
      raw: fc.boolean(),
      authorization: fc.constantFrom(...pools.authorizations),
      idempotencyKey: idempotencyKeyArb,
      contentType: contentTypeArb,
      body: takesBody
        ? fc.oneof(
            {
              arbitrary: valueArb(operation.body ?? {}, "body", pools).map((value) => JSON.stringify(value)),
              weight: 5,
            },
            { arbitrary: rawBodyArb, weight: 1 },
            { arbitrary: fc.constant(undefined), weight: 1 },
          )
        : fc.option(rawBodyArb, { freq: 8, nil: undefined }),
    })
    .map(({ path, query, extraQuery, raw, authorization, idempotencyKey, contentType, body }) => {
      let url = operation.path;
      pathParameters.forEach((parameter, index) => {
        url = url.replace(`{${parameter.name}}`, encoded(path[index]!, raw));
      });
      const pairs = queryParameters.flatMap((parameter, index) =>
        query[index] === undefined ? [] : [`${parameter.name}=${encoded(query[index]!, raw)}`],
      );
      if (extraQuery) pairs.push(extraQuery);
      if (pairs.length > 0) url += `?${pairs.join("&")}`;
      const headers: Record<string, string> = {};
      if (authorization !== undefined) headers.authorization = authorization;
      if (idempotencyKey !== undefined) headers["idempotency-key"] = idempotencyKey;
      if (body !== undefined && contentType !== undefined) headers["content-type"] = contentType;
      return { method: operation.method, url, headers, payload: body };
    });
}
