import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";

import { Redis } from "ioredis";

import { StablerailError } from "../../lib/errors/base.ts";
import type { Logger } from "../../lib/logging/logger.ts";

export type LocalRedis = { url: string; managed: boolean; close: () => Promise<void> };

/**
 * Makes sure Redis answers at `url`. When nothing does, the URL is on this machine and
 * `redis-server` is on PATH, starts one as a child process with its data (append-only file)
 * under `dataDir/redis`, so a second start finds the queues as they were.
 * @throws StablerailError REDIS_UNAVAILABLE with instructions when no Redis can be had
 */
export async function ensureRedis({
  url,
  dataDir,
  logger,
}: {
  url: string;
  dataDir: string;
  logger: Logger;
}): Promise<LocalRedis> {
  if (await answers(url)) return { url, managed: false, close: async () => undefined };

  const parsed = new URL(url);
  const local = ["127.0.0.1", "localhost"].includes(parsed.hostname);
  const hasServer = spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;
  if (!local || !hasServer) {
    throw new StablerailError(
      "REDIS_UNAVAILABLE",
      `No Redis answers at ${url}. Start one (e.g. \`redis-server\`, \`apt-get install redis-server\`, \`brew install redis\`) or set REDIS_URL.`,
    );
  }
  const dir = join(dataDir, "redis");
  await mkdir(dir, { recursive: true });
  const port = parsed.port || "6379";
  const child: ChildProcess = spawn(
    "redis-server",
    [
      "--bind",
      "127.0.0.1",
      "--port",
      port,
      "--dir",
      dir,
      "--appendonly",
      "yes",
      "--save",
      "",
      "--logfile",
      "redis.log",
    ],
    { stdio: "ignore" },
  );
  for (let attempt = 0; attempt < 50; attempt++) {
    if (await answers(url)) {
      logger.debug({ url, dir }, "started redis-server");
      return {
        url,
        managed: true,
        close: async () => {
          if (child.exitCode !== null) return;
          const exited = new Promise((resolve) => child.once("exit", resolve));
          child.kill("SIGTERM");
          await exited;
        },
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill("SIGKILL");
  throw new StablerailError(
    "REDIS_UNAVAILABLE",
    `redis-server did not start on port ${port}; see ${join(dir, "redis.log")}`,
  );
}

async function answers(url: string): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}
