import { sql } from "drizzle-orm";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { Gauge } from "prom-client";
import { z } from "zod";

import { getIndexedHead } from "../../../lib/ledger/queries/get-indexed-head.ts";

const checkResult = z.object({ ok: z.boolean(), error: z.string().optional() });

async function probe(check: () => Promise<unknown>, timeoutMs = 2_000): Promise<{ ok: boolean; error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true };
  } catch (error) {
    return { ok: false, error: (error as Error).message.split("\n")[0] };
  } finally {
    clearTimeout(timer);
  }
}

/** /health (the process answers), /ready (chain, Redis, database reachable; 503 otherwise), /metrics. */
export const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  const { services } = app;
  const lag =
    (app.metricsRegistry.getSingleMetric("stablerail_indexer_lag_blocks") as Gauge | undefined) ??
    new Gauge({
      name: "stablerail_indexer_lag_blocks",
      help: "Blocks between the chain head and the ledger's indexed head",
      registers: [app.metricsRegistry],
      collect: async function () {
        try {
          const [head, indexed] = await Promise.all([
            services.publicClient.getBlockNumber(),
            getIndexedHead(services.database, { chainId: services.chainId }),
          ]);
          this.set(Number(head - (indexed?.number ?? 0n)));
        } catch {
          // Unreachable chain or database: leave the last value; /ready reports the outage.
        }
      },
    });
  void lag;

  app.get(
    "/health",
    { schema: { tags: ["health"], response: { 200: z.object({ status: z.literal("ok") }) } } },
    async () => ({ status: "ok" as const }),
  );

  app.get(
    "/ready",
    {
      schema: {
        tags: ["health"],
        response: {
          200: z.object({ chain: checkResult, redis: checkResult, database: checkResult }),
          503: z.object({ chain: checkResult, redis: checkResult, database: checkResult }),
        },
      },
    },
    async (_request, reply) => {
      const [chain, redis, database] = await Promise.all([
        probe(() => services.publicClient.getBlockNumber()),
        probe(() => services.redis.ping()),
        probe(() => services.database.query(sql`SELECT 1`)),
      ]);
      const body = { chain, redis, database };
      return reply.status(chain.ok && redis.ok && database.ok ? 200 : 503).send(body);
    },
  );

  app.get("/metrics", { schema: { hide: true } }, async (_request, reply) => {
    return reply.header("content-type", app.metricsRegistry.contentType).send(await app.metricsRegistry.metrics());
  });
};
