/**
 * EIP-712 digests as viem's `hashTypedData` makes them, without redoing per message what does not
 * change between messages. viem builds, for every call, the domain's type list, the type string of
 * the primary type and its keccak, the domain separator, and checks every field of the domain again;
 * the stack hashes a handful of domains (the token's, the escrow's, the forwarder's) and a few flat
 * structs (EIP-3009 authorizations, forward requests, payment terms) millions of times over.
 *
 * Remembered here: each domain's separator (keyed by its fields' values, checked by viem the first
 * time) and each flat struct's type hash and field plan (keyed by the `types` object, which callers
 * keep as a module constant). Per message: the same refusals as viem's `validateTypedData` (integer
 * ranges for the declared size, addresses, fixed bytes sizes), the same encoding as its
 * `encodeField`, and `encodeAbiParameters` and keccak as viem does them. A struct that refers to
 * another struct or holds an array goes to viem's `hashTypedData` unchanged.
 * test/lib/signing/typed-data-digest.unit.test.ts holds both to the same digests and the same refusals.
 */
import {
  BytesSizeMismatchError,
  concat,
  encodeAbiParameters,
  getTypesForEIP712Domain,
  hashDomain,
  hashTypedData,
  keccak256,
  size,
  toHex,
  validateTypedData,
  type Hex,
  type TypedData,
  type TypedDataDefinition,
  type TypedDataDomain,
} from "viem";

/** How one field of a flat struct is checked and encoded. */
type FieldPlan = {
  name: string;
  /** The ABI type it is encoded as: the field's own, or bytes32 for the hash of a string or bytes. */
  abiType: { type: string };
  encode: (value: unknown) => unknown;
};
/** A flat struct: its type hash, its fields, and the ABI types its encoding takes (the type hash's first). */
type StructPlan = { typeHash: Hex; fields: FieldPlan[]; abiTypes: { type: string }[] };

// The sizes viem's typed-data checks know (its integerRegex and bytesRegex); any other type goes to viem.
const INTEGER =
  /^u?int(8|16|24|32|40|48|56|64|72|80|88|96|104|112|120|128|136|144|152|160|168|176|184|192|200|208|216|224|232|240|248|256)$/;
const FIXED_BYTES = /^bytes([1-9]|1[0-9]|2[0-9]|3[0-2])$/;
// Domains seen: a process meets a few (one per contract and chain). Bounded in case a caller
// hashes under many, so the map never grows without end.
const MAX_DOMAINS = 256;
const separators = new Map<string, Hex>();
// Per types object, per primary type: its plan, or null when viem must hash it (not flat).
const plans = new WeakMap<object, Map<string, StructPlan | null>>();

/** viem's `hashTypedData(typedData)`, the same 32 bytes and the same errors. */
export function typedDataDigest<
  const typedData extends TypedData | Record<string, unknown>,
  primaryType extends keyof typedData | "EIP712Domain",
>(typedData: TypedDataDefinition<typedData, primaryType>): Hex {
  const { domain, message, primaryType, types } = typedData as unknown as {
    domain?: TypedDataDomain | null;
    message: Record<string, unknown>;
    primaryType: string;
    types: Record<string, readonly { name: string; type: string }[]>;
  };
  const plan = primaryType === "EIP712Domain" || domain === null ? null : planOf(types, primaryType);
  if (!plan || !message || typeof message !== "object") return hashTypedData(typedData);
  const values: unknown[] = [plan.typeHash];
  for (const field of plan.fields) values.push(field.encode(message[field.name]));
  const structHash = keccak256(encodeAbiParameters(plan.abiTypes, values));
  return keccak256(concat(["0x1901", domainSeparator(domain ?? {}), structHash]));
}

/** The domain's separator, computed (and the domain checked) by viem the first time its values are seen. */
function domainSeparator(domain: TypedDataDomain): Hex {
  const key = JSON.stringify([
    domain.name,
    domain.version,
    domain.chainId?.toString(),
    domain.verifyingContract,
    domain.salt,
  ]);
  let separator = separators.get(key);
  if (separator === undefined) {
    const types = { EIP712Domain: getTypesForEIP712Domain({ domain }) };
    validateTypedData({ domain, types, primaryType: "EIP712Domain", message: {} } as never);
    separator = hashDomain({ domain, types } as never);
    if (separators.size >= MAX_DOMAINS) separators.clear();
    separators.set(key, separator);
  }
  return separator;
}

function planOf(types: Record<string, readonly { name: string; type: string }[]>, primaryType: string) {
  let byPrimary = plans.get(types);
  if (!byPrimary) plans.set(types, (byPrimary = new Map()));
  let plan = byPrimary.get(primaryType);
  if (plan === undefined) {
    plan = buildPlan(types, primaryType);
    byPrimary.set(primaryType, plan);
  }
  return plan;
}

/** A flat struct's plan (every field of an atomic type); null when a field is a struct or an array. */
function buildPlan(
  types: Record<string, readonly { name: string; type: string }[]>,
  primaryType: string,
): StructPlan | null {
  const struct = types[primaryType];
  if (!struct) return null;
  const fields: FieldPlan[] = [];
  for (const { name, type } of struct) {
    if (Object.hasOwn(types, type) || type.endsWith("]")) return null;
    const field = fieldPlan(name, type);
    if (!field) return null;
    fields.push(field);
  }
  // encodeType of a struct with no struct dependencies: `Name(type name,…)`.
  const typeHash = keccak256(toHex(`${primaryType}(${struct.map(({ name, type }) => `${type} ${name}`).join(",")})`));
  return { typeHash, fields, abiTypes: [{ type: "bytes32" }, ...fields.map((field) => field.abiType)] };
}

/**
 * validateTypedData's check and encodeField's encoding of one atomic field, as viem does them.
 * Integers, addresses and booleans go to encodeAbiParameters as they are: it refuses an integer
 * outside its declared size and an invalid address with the errors validateTypedData throws
 * (IntegerOutOfRangeError, InvalidAddressError). A fixed-size bytes of another size is refused here:
 * encodeAbiParameters would throw another error for it.
 */
function fieldPlan(name: string, type: string): FieldPlan | null {
  if (INTEGER.test(type) || type === "address" || type === "bool")
    return { name, abiType: { type }, encode: (value) => value };
  const fixed = FIXED_BYTES.exec(type);
  if (fixed) {
    const expectedSize = Number(fixed[1]);
    return {
      name,
      abiType: { type },
      encode: (value) => {
        const givenSize = size(value as Hex);
        if (givenSize !== expectedSize) throw new BytesSizeMismatchError({ expectedSize, givenSize });
        return value;
      },
    };
  }
  if (type === "string")
    return { name, abiType: { type: "bytes32" }, encode: (value) => keccak256(toHex(value as string)) };
  if (type === "bytes") return { name, abiType: { type: "bytes32" }, encode: (value) => keccak256(value as Hex) };
  return null;
}
