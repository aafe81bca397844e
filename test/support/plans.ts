import type pg from 'pg';

/** A node of `EXPLAIN (FORMAT JSON)`: the fields the plan tests read. */
export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Plans?: PlanNode[];
}

/** Every node of a plan, the root first. */
export function planNodes(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(planNodes)];
}

/**
 * The plan PostgreSQL uses for `statement` sent as the platform sends it, a
 * prepared statement: `force_custom_plan` is the plan made for these
 * arguments (SQL literals), `force_generic_plan` the one a connection keeps
 * once PostgreSQL prefers it.
 */
export async function preparedPlan(
  client: pg.ClientBase,
  statement: string,
  parameterTypes: string,
  argumentsSql: string,
  mode: 'force_custom_plan' | 'force_generic_plan',
): Promise<PlanNode> {
  await client.query('BEGIN');
  try {
    await client.query(`SET LOCAL plan_cache_mode = ${mode}`);
    await client.query(`PREPARE plan_under_test (${parameterTypes}) AS ${statement}`);
    const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) EXECUTE plan_under_test (${argumentsSql})`);
    return rows[0]['QUERY PLAN'][0].Plan;
  } finally {
    await client.query('ROLLBACK');
    // A prepared statement outlives the transaction it was made in.
    await client.query('DEALLOCATE plan_under_test').catch(() => undefined);
  }
}
