/**
 * Where the rules in force come from: the newest version an operator stored (risk_rule_sets), else
 * the file named by API_RISK_RULES_FILE, else the built-in defaults (api/risk/default-rules.json,
 * version 0). Changes go through {@link storeRuleSet}: validated, appended as a new version.
 */
import { readFileSync } from "node:fs";

import { desc } from "drizzle-orm";

import type { Database } from "../../lib/db/database.ts";
import { ValidationError } from "../../lib/errors/base.ts";
import { riskRuleSets } from "../db/security-schema.ts";
import { ruleSetSchema, type RuleSet } from "./rules.ts";

const DEFAULT_RULES_PATH = new URL("./default-rules.json", import.meta.url);

/**
 * Parses a rule set, naming the first problem.
 * @throws ValidationError RISK_RULES_INVALID
 */
export function parseRuleSet(json: unknown): RuleSet {
  const parsed = ruleSetSchema.safeParse(json);
  if (!parsed.success) {
    throw new ValidationError("RISK_RULES_INVALID", "The rule set is invalid", {
      details: { issues: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })) },
    });
  }
  return parsed.data;
}

/** The rules shipped with the code (or API_RISK_RULES_FILE's). */
export function loadFileRuleSet(path?: string): RuleSet {
  return parseRuleSet(JSON.parse(readFileSync(path ?? DEFAULT_RULES_PATH, "utf8")));
}

/** The rule set in force and its version (0 for the file's). */
export async function currentRuleSet(
  database: Database,
  fallback: RuleSet,
): Promise<{ version: number; ruleSet: RuleSet }> {
  const [row] = await database.db.select().from(riskRuleSets).orderBy(desc(riskRuleSets.version)).limit(1);
  return row ? { version: row.version, ruleSet: parseRuleSet(row.rules) } : { version: 0, ruleSet: fallback };
}

/** Stores a new version of the rules; @returns its version */
export async function storeRuleSet(database: Database, ruleSet: RuleSet, by: string): Promise<number> {
  const parsed = parseRuleSet(ruleSet);
  const [row] = await database.db
    .select({ version: riskRuleSets.version })
    .from(riskRuleSets)
    .orderBy(desc(riskRuleSets.version))
    .limit(1);
  const version = (row?.version ?? 0) + 1;
  await database.db.insert(riskRuleSets).values({ version, rules: parsed, createdBy: by });
  return version;
}
