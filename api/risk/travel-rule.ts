/**
 * Travel-rule data: originator and beneficiary of a transfer, a small IVMS101-shaped record
 * (natural or legal person names, a geographic address, a date of birth, the beneficiary's VASP).
 * The two account numbers are filled in by the service from the movement's own addresses, so a
 * client cannot name other accounts than the ones that move.
 */
import { z } from "zod";

const text = (max: number) => z.string().trim().min(1).max(max);

const personSchema = z
  .object({
    name: z
      .object({ primaryIdentifier: text(100), secondaryIdentifier: text(100).optional() })
      .strict()
      .describe("IVMS101 nameIdentifier: primary = last name or legal name"),
    geographicAddress: z
      .object({
        country: z.string().regex(/^[A-Z]{2}$/, "must be an ISO 3166-1 alpha-2 code"),
        townName: text(100).optional(),
        streetName: text(100).optional(),
        buildingNumber: text(20).optional(),
        postCode: text(20).optional(),
      })
      .strict()
      .optional(),
    dateOfBirth: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, "must be YYYY-MM-DD")
      .optional(),
    nationalIdentification: z
      .object({
        identifier: text(50),
        type: text(20),
        country: z
          .string()
          .regex(/^[A-Z]{2}$/)
          .optional(),
      })
      .strict()
      .optional(),
    vasp: z
      .object({ name: text(100), lei: text(20).optional() })
      .strict()
      .optional(),
  })
  .strict();

/** What a client sends as `travelRule`. */
export const travelRuleInput = z
  .object({ originator: personSchema, beneficiary: personSchema })
  .strict()
  .describe(
    "Originator and beneficiary (IVMS101-shaped); required above the rules' travel-rule threshold off-platform",
  );
export type TravelRuleInput = z.infer<typeof travelRuleInput>;

/** The record stored with the movement (money_movements.travel_rule). */
export type TravelRuleRecord = TravelRuleInput & {
  originator: { accountNumber: string };
  beneficiary: { accountNumber: string };
  threshold: string;
};

/** Adds the movement's own addresses as the account numbers. */
export function travelRuleRecord(
  input: TravelRuleInput,
  from: string,
  to: string,
  threshold: bigint,
): TravelRuleRecord {
  return {
    originator: { ...input.originator, accountNumber: from },
    beneficiary: { ...input.beneficiary, accountNumber: to },
    threshold: threshold.toString(),
  };
}
