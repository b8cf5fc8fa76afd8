import { defineEnvSection } from "./env-section.ts";
import { addressField, positiveIntField, privateKeyField } from "./fields.ts";

/** Settings of the auditor's tools (`npm run audit -- …`) and the API's audit routes. */
export const auditorEnv = defineEnvSection(
  "Auditor",
  {
    AUDIT_BATCH_SIZE: positiveIntField
      .default(500)
      .describe("Contract reads per Multicall3 eth_call when reconciling (balanceOf, paymentState)"),
    AUDIT_CONCURRENCY: positiveIntField.default(4).describe("Multicall3 eth_calls in flight at once when reconciling"),
    AUDIT_MULTICALL_ADDRESS: addressField
      .optional()
      .describe(
        "A Multicall3 on the chain to batch reads through (default: the canonical 0xcA11…CA11 when it has code at the audited block, else the same bytecode run deployless)",
      ),
    AUDIT_ATTESTER_PRIVATE_KEY: privateKeyField
      .optional()
      .describe(
        "Key holding ReserveAttestation's ATTESTER_ROLE, for `npm run audit -- attest` (unset: attest refuses)",
      ),
  },
  (env) => ({
    batchSize: env.AUDIT_BATCH_SIZE,
    concurrency: env.AUDIT_CONCURRENCY,
    multicallAddress: env.AUDIT_MULTICALL_ADDRESS,
    attesterKey: env.AUDIT_ATTESTER_PRIVATE_KEY,
  }),
);

export type AuditorSettings = ReturnType<typeof auditorEnv.toSettings>;
