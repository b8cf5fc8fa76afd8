import { isAddress, isHex, getAddress, type Address, type Hex } from "viem";
import { z } from "zod";

/** Reusable variable schemas: parse strings from the environment into typed values. */

export const portField = z.coerce.number().int().min(0).max(65_535);

export const positiveIntField = z.coerce.number().int().positive();

export const nonNegativeIntField = z.coerce.number().int().nonnegative();

/** Whole number of base units (wei, token units), kept as bigint — never a float. */
export const bigintField = z
  .string()
  .regex(/^\d+$/, "must be a whole number of base units (digits only)")
  .transform((value) => BigInt(value));

export const booleanField = z
  .enum(["true", "false", "1", "0", "yes", "no"], { message: "must be true or false" })
  .transform((value) => value === "true" || value === "1" || value === "yes");

export const urlField = z.url({ message: "must be a URL" });

export const addressField = z
  .string()
  .refine((value) => isAddress(value, { strict: false }), "must be a 0x-prefixed 20-byte address")
  .transform((value) => getAddress(value) as Address);

export const privateKeyField = z
  .string()
  .refine((value) => isHex(value) && value.length === 66, "must be a 0x-prefixed 32-byte hex private key")
  .transform((value) => value as Hex);

/** Comma-separated list of private keys. */
export const privateKeyListField = z
  .string()
  .transform((value) =>
    value
      .split(",")
      .map((item) => item.trim())
      .filter(Boolean),
  )
  .pipe(z.array(privateKeyField).min(1, "must name at least one key"));

export const logLevelField = z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);
