/**
 * Where the rules in force come from: the newest version an operator stored (risk_rule_sets), else
 * the file named by API_RISK_RULES_FILE, else the built-in defaults (api/risk/default-rules.json,
 * version 0). Changes go through {@link storeRuleSet}: validated, appended as a new version.
 */
import { readFileSync } from "node:fs";

import { desc, eq } from "drizzle-orm";

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
  if (!row) return { version: 0, ruleSet: fallback };
  return { version: row.version, ruleSet: parsedVersion(database, row.version, () => row.rules) };
}

/**
 * The rule set of `version` (the newest stored version, read by the caller with its other facts; null
 * when none is stored): a stored version never changes (each change appends one), so each is read
 * and parsed once per process.
 */
export async function ruleSetOfVersion(
  database: Database,
  version: number | null,
  fallback: RuleSet,
): Promise<{ version: number; ruleSet: RuleSet }> {
  if (version === null) return { version: 0, ruleSet: fallback };
  const known = parsedVersions.get(database)?.get(version);
  if (known) return { version, ruleSet: known };
  const [row] = await database.db.select().from(riskRuleSets).where(eq(riskRuleSets.version, version));
  // Gone meanwhile (a test's cleanup): the newest there is now.
  if (!row) return currentRuleSet(database, fallback);
  return { version, ruleSet: parsedVersion(database, version, () => row.rules) };
}

// Per database: version numbers are the database's (a test process holds several).
const parsedVersions = new WeakMap<Database, Map<number, RuleSet>>();
function parsedVersion(database: Database, version: number, rules: () => unknown): RuleSet {
  let versions = parsedVersions.get(database);
  if (!versions) parsedVersions.set(database, (versions = new Map()));
  let parsed = versions.get(version);
  if (!parsed) {
    parsed = parseRuleSet(rules());
    versions.set(version, parsed);
  }
  return parsed;
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
