import { sql } from "drizzle-orm";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";

import { getIndexedHead } from "../../../lib/ledger/queries/get-indexed-head.ts";
import { listStuckKeys } from "../../../relayer/index.ts";
import { AuthenticationError } from "../../errors/api-errors.ts";

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

const indexerCheck = checkResult.extend({
  chainHead: z.string().optional(),
  indexedHead: z.string().optional(),
  lagBlocks: z.number().optional(),
  maxLagBlocks: z.number(),
});
const relayerCheck = checkResult.extend({
  stuckKeys: z.array(z.object({ relayer: z.string(), nonce: z.number(), since: z.string(), ageSeconds: z.number() })),
  stuckAfterSeconds: z.number(),
});
const readyBody = z.object({
  chain: checkResult,
  redis: checkResult,
  database: checkResult,
  indexer: indexerCheck,
  relayer: relayerCheck,
});

/**
 * /health (the process answers), /ready (503 unless chain, Redis and database answer, the ledger is
 * within API_READY_MAX_INDEXER_LAG_BLOCKS of the chain head, and no relayer key is stuck), /metrics
 * (Prometheus; an operator or admin credential, or X-Metrics-Token: API_METRICS_TOKEN).
 */
export const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  const { services } = app;

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
        summary:
          "Readiness: dependencies answer, the ledger keeps up with the chain, no relayer key is stuck (503 with the failing checks otherwise)",
        response: { 200: readyBody, 503: readyBody },
      },
    },
    async (_request, reply) => {
      const { readyMaxIndexerLagBlocks: maxLagBlocks, readyStuckKeySeconds: stuckAfterSeconds } = services.settings;
      let chainHead: bigint | undefined;
      const [chain, redis, database] = await Promise.all([
        probe(async () => (chainHead = await services.publicClient.getBlockNumber({ cacheTime: 0 }))),
        probe(() => services.redis.ping()),
        probe(() => services.database.query(sql`SELECT 1`)),
      ]);
      let indexer: z.infer<typeof indexerCheck> = { ok: false, maxLagBlocks, error: "chain or database unreachable" };
      let relayer: z.infer<typeof relayerCheck> = { ok: false, stuckKeys: [], stuckAfterSeconds };
      if (database.ok) {
        const indexed = await getIndexedHead(services.database, { chainId: services.chainId }).catch(() => undefined);
        if (chainHead !== undefined) {
          const lagBlocks = Number(chainHead - (indexed?.number ?? 0n));
          indexer = {
            ok: indexed !== undefined && lagBlocks <= maxLagBlocks,
            chainHead: chainHead.toString(),
            ...(indexed ? { indexedHead: indexed.number.toString() } : {}),
            lagBlocks,
            maxLagBlocks,
            ...(indexed === undefined
              ? { error: "the ledger has no indexed head: is the indexer running?" }
              : lagBlocks > maxLagBlocks
                ? { error: `the ledger is ${lagBlocks} blocks behind the chain (at most ${maxLagBlocks})` }
                : {}),
          };
        }
        try {
          const stuck = await listStuckKeys(services.database, { olderThanSeconds: stuckAfterSeconds });
          relayer = {
            ok: stuck.length === 0,
            stuckKeys: stuck.map((key) => ({
              relayer: key.relayer,
              nonce: key.nonce,
              since: key.since.toISOString(),
              ageSeconds: Math.round(key.ageSeconds),
            })),
            stuckAfterSeconds,
            ...(stuck.length > 0 ? { error: `${stuck.length} relayer key(s) stuck: a transaction has not mined` } : {}),
          };
        } catch (error) {
          relayer = { ok: false, stuckKeys: [], stuckAfterSeconds, error: (error as Error).message.split("\n")[0] };
        }
      } else {
        relayer = { ...relayer, error: "database unreachable" };
      }
      const body = { chain, redis, database, indexer, relayer };
      const ready = chain.ok && redis.ok && database.ok && indexer.ok && relayer.ok;
      // The logs carry what /ready saw, so a lagging ledger or a stuck key is found by whoever
      // reads the logs, not only by whoever polls /ready.
      if (!ready)
        _request.log.warn({ ready: body }, "not ready: a dependency, the indexer or a relayer key failed its check");
      return reply.status(ready ? 200 : 503).send(body);
    },
  );

  app.get("/metrics", { schema: { hide: true } }, async (request, reply) => {
    const role = request.principal?.role;
    if (role !== "operator" && role !== "admin" && !app.isMetricsToken(request.headers["x-metrics-token"] as string)) {
      throw new AuthenticationError(
        "UNAUTHENTICATED",
        "GET /metrics needs an operator or admin credential (Authorization: Bearer), or X-Metrics-Token: <API_METRICS_TOKEN>",
      );
    }
    return reply.header("content-type", app.metricsRegistry.contentType).send(await app.metricsRegistry.metrics());
  });
};
