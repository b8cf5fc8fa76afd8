/**
 * The frontend messages that run a prepared statement — Bind, Execute, Sync — written straight into
 * one buffer of their exact size: the bytes PGlite's own serializer (`protocol.serialize`) writes
 * for them, one after the other.
 *
 * Why: PGlite's serializer measures every text parameter's UTF-8 length twice in a JavaScript loop,
 * grows its buffer from 256 bytes by copying it, and copies the result three more times (the
 * parameters' writer, the message's, the join of the three messages). Measured on this project's
 * 2-core machine (`bench/db/pglite-statements.ts`, "parameters"): 19 and 36 µs for a relay's record
 * (7 parameters) and a movement's (16), 46 ms for the indexer writer's batch of 6.8 MB of array
 * literals; this writes them in 5, 4 µs and 3 ms. Every statement of the embedded default passes
 * here (lib/db/pglite-prepared.ts).
 *
 * The format (PostgreSQL's frontend/backend protocol, 3.0): Bind is 'B', its length, an empty
 * portal name, the statement's name, the parameters' format codes (0 text, 1 binary), the
 * parameters (a length, −1 for NULL, then the bytes), and one result format code count of 0 (every
 * column as text). A text parameter is sent as UTF-8; a string that is not well-formed UTF-16 (a
 * lone surrogate) is sent with U+FFFD in its place, as `TextEncoder` would.
 */

/** A parameter as the protocol carries it: text, raw bytes (sent in binary format), or NULL. */
export type BindValue = string | ArrayBufferView | null;

const BIND = 0x42;
const TEXT_FORMAT = 0;
const BINARY_FORMAT = 1;
// Execute ('E', length 9, the unnamed portal, no row limit) and Sync ('S', length 4).
const EXECUTE_AND_SYNC = Uint8Array.of(0x45, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0x53, 0, 0, 0, 4);

/**
 * Bind + Execute + Sync for the prepared statement `statement` with `values`, as one message
 * sequence for `PGlite.execProtocolStream`.
 */
export function bindExecuteSync(statement: string, values: readonly BindValue[]): Uint8Array {
  if (values.length > 0xffff) {
    throw new RangeError(`A statement takes at most 65,535 parameters, not ${values.length}`);
  }
  const lengths = new Array<number>(values.length);
  const statementLength = Buffer.byteLength(statement);
  // code + length + portal "" + statement + NUL + format count + formats + value count + result formats
  let bindLength = 1 + 4 + 1 + statementLength + 1 + 2 + 2 * values.length + 2 + 2;
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    const length = value === null ? -1 : typeof value === "string" ? Buffer.byteLength(value) : value.byteLength;
    lengths[i] = length;
    bindLength += 4 + Math.max(length, 0);
  }

  const out = Buffer.allocUnsafe(bindLength + EXECUTE_AND_SYNC.length);
  let offset = 0;
  out[offset++] = BIND;
  offset = out.writeInt32BE(bindLength - 1, offset);
  out[offset++] = 0;
  offset += out.write(statement, offset, "utf8");
  out[offset++] = 0;
  offset = out.writeUInt16BE(values.length, offset);
  for (const value of values) {
    offset = out.writeInt16BE(value === null || typeof value === "string" ? TEXT_FORMAT : BINARY_FORMAT, offset);
  }
  offset = out.writeUInt16BE(values.length, offset);
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    offset = out.writeInt32BE(lengths[i]!, offset);
    if (value === null) continue;
    if (typeof value === "string") {
      offset += out.write(value, offset, "utf8");
    } else {
      out.set(new Uint8Array(value.buffer, value.byteOffset, value.byteLength), offset);
      offset += value.byteLength;
    }
  }
  offset = out.writeInt16BE(0, offset);
  out.set(EXECUTE_AND_SYNC, offset);
  return out;
}
