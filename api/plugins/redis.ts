import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import type { Redis } from "ioredis";

declare module "fastify" {
  interface FastifyInstance {
    redis: Redis;
    /** Prefix of every key the API writes (per test file in tests). */
    redisPrefix: string;
  }
}

/**
 * Decorates the app with its Redis connection. HTTP handlers fail fast when Redis is down:
 * the connection must be created with `enableOfflineQueue: false` (see {@link createApiRedis}).
 */
export const redisPlugin = fp(
  async (app: FastifyInstance, { redis, prefix }: { redis: Redis; prefix: string }) => {
    app.decorate("redis", redis);
    app.decorate("redisPrefix", prefix);
  },
  { name: "redis" },
);
