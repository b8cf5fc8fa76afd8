import { Redis } from "ioredis";

/**
 * The API's Redis connection: no offline queue and one retry per command, so a request whose
 * Redis is down fails within milliseconds (→ 503) instead of hanging.
 */
export function createApiRedis(url: string): Redis {
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false });
  // Without a listener an unreachable Redis would crash the process; /ready reports it instead.
  redis.on("error", () => undefined);
  return redis;
}
