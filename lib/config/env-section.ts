import { z } from "zod";

import { ConfigError, type ConfigIssue } from "../errors/config-error.ts";

/**
 * A group of environment variables that one part of the stack reads, with the schema that
 * validates them and the mapping to the typed settings the code uses. Sections are composed
 * per process (the indexer loads fewer than the API), and `.env.example` is generated from
 * them, so the documentation cannot drift from what is parsed.
 */
export type EnvSection<Shape extends z.ZodRawShape, Out> = {
  readonly title: string;
  readonly shape: Shape;
  readonly toSettings: (env: z.output<z.ZodObject<Shape>>) => Out;
};

/**
 * Declares an environment section.
 * @param title - heading used in `.env.example`
 * @param shape - one zod schema per variable; give each a `.describe()` and a `.default()` where one exists
 * @param toSettings - maps the parsed variables to the settings object the code uses
 */
export function defineEnvSection<Shape extends z.ZodRawShape, Out>(
  title: string,
  shape: Shape,
  toSettings: (env: z.output<z.ZodObject<Shape>>) => Out,
): EnvSection<Shape, Out> {
  return { title, shape, toSettings };
}

/** Any section, whatever its variables (parameters are contravariant, hence `never`). */
type AnySection = {
  readonly title: string;
  readonly shape: z.ZodRawShape;
  readonly toSettings: (env: never) => unknown;
};
type SettingsOf<S extends AnySection> = ReturnType<S["toSettings"]>;

/**
 * Parses every section from one environment, once, at start-up.
 * @param sections - named sections, e.g. `{ chain: chainEnv, database: databaseEnv }`
 * @param env - the environment (defaults to `process.env`); empty strings count as unset
 * @returns the settings of each section under its name
 * @throws ConfigError naming every variable that is wrong and why
 * @example
 * const config = loadConfig({ chain: chainEnv, redis: redisEnv });
 * config.chain.rpcUrl; // "http://127.0.0.1:8545"
 */
export function loadConfig<Sections extends Record<string, AnySection>>(
  sections: Sections,
  env: Record<string, string | undefined> = process.env,
): { [K in keyof Sections]: SettingsOf<Sections[K]> } {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ""));
  const issues: ConfigIssue[] = [];
  const result: Record<string, unknown> = {};
  for (const [name, section] of Object.entries(sections)) {
    const parsed = z.object(section.shape).safeParse(cleaned);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        issues.push({ variable: String(issue.path[0] ?? name), problem: issue.message });
      }
      continue;
    }
    result[name] = section.toSettings(parsed.data as never);
  }
  if (issues.length > 0) throw new ConfigError(dedupe(issues));
  return result as { [K in keyof Sections]: SettingsOf<Sections[K]> };
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.variable}\u0000${issue.problem}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
