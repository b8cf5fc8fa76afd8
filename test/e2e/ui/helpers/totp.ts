/**
 * RFC 6238 TOTP (HMAC-SHA-1, 6 digits, 30 s steps) from the base32 secret the app shows at
 * enrolment, written here from the RFC with node:crypto — not the server's library — so a test
 * checks the server against the standard rather than against itself.
 */
import { createHmac } from "node:crypto";

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** RFC 4648 base32 (padding and spaces ignored) to bytes. */
export function base32Decode(text: string): Buffer {
  const clean = text.replace(/[\s=]/g, "").toUpperCase();
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const char of clean) {
    const index = BASE32.indexOf(char);
    if (index < 0) throw new Error(`not base32: ${char}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The time step of a moment (RFC 6238 T = floor(unix seconds / 30)). */
export const timeStep = (at = Date.now()) => Math.floor(at / 1000 / 30);

/** The 6-digit code for a time step (RFC 4226 HOTP with dynamic truncation). */
export function totpCode(secret: string, step = timeStep()): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac("sha1", base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return binary.toString().padStart(6, "0");
}
