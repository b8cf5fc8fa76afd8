import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";

import { audited } from "../../../audit-log/index.ts";
import { fileRuleSet } from "../../../risk/assess-movement.ts";
import { currentRuleSet, storeRuleSet } from "../../../risk/rule-sets.ts";
import { errorResponse } from "../../../schemas/common.ts";

const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse };
const ruleSetView = z.object({ version: z.number(), rules: z.record(z.string(), z.unknown()) });

/**
 * The risk rules in force (data, per verification tier): everyone authenticated reads them (a
 * client shows a reason's message and switches on its action); operators and admins store a new
 * version, validated whole, which every API process uses from its next movement.
 */
export const riskRoutes: FastifyPluginAsyncZod = async (app) => {
  const { services } = app;

  app.get(
    "/rules",
    {
      config: { roles: ["user", "merchant", "operator", "auditor", "admin"] },
      schema: {
        tags: ["risk"],
        summary: "The risk rules in force and their version (0: built-in)",
        response: { 200: ruleSetView, ...errors },
      },
    },
    async () => {
      const { version, ruleSet } = await currentRuleSet(services.database, fileRuleSet());
      return { version, rules: ruleSet };
    },
  );

  app.put(
    "/rules",
    {
      config: { roles: ["operator", "admin"] },
      schema: {
        tags: ["risk"],
        summary: "Store a new version of the risk rules (400 RISK_RULES_INVALID naming the problem)",
        body: z.record(z.string(), z.unknown()),
        response: { 200: ruleSetView, ...errors },
      },
    },
    async (request) => {
      const version = await audited(
        request,
        { action: "risk_rules.update" },
        () => storeRuleSet(services.database, request.body as never, request.principal!.userId),
        (stored) => ({ target: `v${stored}` }),
      );
      const { ruleSet } = await currentRuleSet(services.database, fileRuleSet());
      return { version, rules: ruleSet };
    },
  );
};
