import { pino, type Logger, type LoggerOptions } from "pino";

export type { Logger } from "pino";

export type CreateLoggerParameters = {
  /** Component name carried on every line (`indexer`, `api`, `relayer`, `start`). */
  name: string;
  level: LoggerOptions["level"];
  /** pretty: human-readable lines (pino-pretty); json: one object per line; auto (default): pretty on a terminal. */
  format?: "auto" | "pretty" | "json";
};

/**
 * Creates the structured logger every process uses: JSON lines in production, pretty lines on
 * a terminal. Secrets are redacted by path so a careless `log.info({ body })` cannot leak them.
 * @returns a pino logger
 * @example
 * const log = createLogger({ name: "indexer", level: config.common.logLevel });
 */
export function createLogger({ name, level, format = "auto" }: CreateLoggerParameters): Logger {
  const pretty = format === "pretty" || (format === "auto" && process.stdout.isTTY === true);
  return pino({
    name,
    level,
    redact: {
      paths: [
        "*.privateKey",
        "*.password",
        "*.secret",
        "*.apiKey",
        "*.authorization",
        "req.headers.authorization",
        'req.headers["x-api-key"]',
      ],
      censor: "[redacted]",
    },
    ...(pretty
      ? {
          transport: {
            target: "pino-pretty",
            options: { colorize: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" },
          },
        }
      : {}),
  });
}
