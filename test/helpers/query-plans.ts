/**
 * Reading PostgreSQL's `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)` output in the statement-plan tests
 * (test/relayer/statement-plans.test.ts, test/api/movements/statement-plans.test.ts): which relations a
 * statement scanned, how, and how many pages each scan touched — a deterministic count, not a timing.
 */
export type PlanNode = {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  "Index Cond"?: string;
  Filter?: string;
  "Shared Hit Blocks"?: number;
  "Shared Read Blocks"?: number;
  Plans?: PlanNode[];
};

/** The plan of an EXPLAIN's one row (its `QUERY PLAN` column: parsed JSON from node-postgres, text from PGlite). */
export function planOf(row: Record<string, unknown> | undefined): PlanNode {
  const raw = row?.["QUERY PLAN"];
  const [{ Plan }] = (typeof raw === "string" ? JSON.parse(raw) : raw) as [{ Plan: PlanNode }];
  return Plan;
}

/** Every node of a plan, depth first. */
export function nodesOf(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(nodesOf)];
}

/** The shared buffers a node touched (hit or read); a parent's include its children's. */
export const pagesOf = (node: PlanNode): number => (node["Shared Hit Blocks"] ?? 0) + (node["Shared Read Blocks"] ?? 0);
