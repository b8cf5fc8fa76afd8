import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";

import { getAddress, isAddress, isHex, type Address, type Hash } from "viem";
import { z } from "zod";

import { NotFoundError, ValidationError } from "../errors/base.ts";

/**
 * The deployed contract addresses of one chain, in one machine-readable file
 * (`<deploymentsDir>/<chainId>.json`) written by the deploy step and read by every service.
 * `genesisHash` identifies the chain instance: a local chain restarted from scratch has the
 * same id but another genesis, so stale files are detected instead of trusted.
 */
const addressSchema = z
  .string()
  .refine((value) => isAddress(value), "not an address")
  .transform((value) => getAddress(value));
const hashSchema = z
  .string()
  .refine((value) => isHex(value) && value.length === 66, "not a 32-byte hash")
  .transform((value) => value as Hash);

export const contractNames = ["Stablecoin", "StablerailForwarder", "PaymentEscrow", "Settlement"] as const;
export type ContractName = (typeof contractNames)[number];
/** Contracts a deployment may have (files written before they existed lack them). */
export const optionalContractNames = ["ReserveAttestation"] as const;
export type OptionalContractName = (typeof optionalContractNames)[number];

export const deploymentSchema = z.object({
  chainId: z.number().int().positive(),
  genesisHash: hashSchema,
  /** First block the indexer must read: the block of the earliest deployment. */
  startBlock: z.number().int().nonnegative(),
  deployedAt: z.string(),
  /** The account granted Settlement's PAYOUT_ROLE, which the relayer's operator key must be: every escrow payment's operator. */
  operator: addressSchema.optional(),
  contracts: z.object({
    ...(Object.fromEntries(
      contractNames.map((name) => [
        name,
        z.object({ address: addressSchema, blockNumber: z.number().int().nonnegative() }),
      ]),
    ) as Record<ContractName, z.ZodObject<{ address: typeof addressSchema; blockNumber: z.ZodNumber }>>),
    ...(Object.fromEntries(
      optionalContractNames.map((name) => [
        name,
        z.object({ address: addressSchema, blockNumber: z.number().int().nonnegative() }).optional(),
      ]),
    ) as Record<
      OptionalContractName,
      z.ZodOptional<z.ZodObject<{ address: typeof addressSchema; blockNumber: z.ZodNumber }>>
    >),
  }),
});

export type Deployment = {
  chainId: number;
  genesisHash: Hash;
  startBlock: number;
  deployedAt: string;
  /** The escrow operator and payout account (absent in files written before it was recorded). */
  operator?: Address | undefined;
  contracts: Record<ContractName, { address: Address; blockNumber: number }> &
    Partial<Record<OptionalContractName, { address: Address; blockNumber: number }>>;
};

/** Path of a chain's deployment file. */
export function deploymentPath(deploymentsDir: string, chainId: number): string {
  return join(deploymentsDir, `${chainId}.json`);
}

/**
 * Reads and validates the deployment file of a chain.
 * @throws NotFoundError (`DEPLOYMENT_NOT_FOUND`) when the file is missing
 * @throws ValidationError (`DEPLOYMENT_INVALID`) when it is malformed
 */
export async function readDeployment(deploymentsDir: string, chainId: number): Promise<Deployment> {
  const path = deploymentPath(deploymentsDir, chainId);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new NotFoundError(
      "DEPLOYMENT_NOT_FOUND",
      `No deployment for chain ${chainId} at ${path}; run \`npm start\` or \`npm run deploy\` first`,
    );
  }
  const parsed = deploymentSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new ValidationError(
      "DEPLOYMENT_INVALID",
      `Deployment file ${path} is malformed: ${parsed.error.issues[0]?.message}`,
    );
  }
  return parsed.data as Deployment;
}

/** Writes a chain's deployment file atomically (write to a temporary file, then rename). */
export async function writeDeployment(deploymentsDir: string, deployment: Deployment): Promise<string> {
  await mkdir(deploymentsDir, { recursive: true });
  const path = deploymentPath(deploymentsDir, deployment.chainId);
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(deployment, null, 2)}\n`);
  await rename(temporary, path);
  return path;
}
