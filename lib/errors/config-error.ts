import { StablerailError } from "./base.ts";

export type ConfigIssue = { variable: string; problem: string };

/** Start-up configuration is invalid; the process must not start. */
export class ConfigError extends StablerailError {
  override name = "ConfigError";
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[]) {
    const lines = issues.map((issue) => `  ${issue.variable}: ${issue.problem}`).join("\n");
    super("CONFIG_INVALID", `Invalid configuration (see .env.example):\n${lines}`, {
      details: { issues },
    });
    this.issues = issues;
  }
}
