import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openOperationByProviderIds } from '../src/webhooks/paypal.ts';
import { saleBody, startTestPlatform, type TestPlatform } from './support/platform.ts';

/**
 * A PayPal event is matched to the open operation it is about twice per
 * payment. The match must cost what the open operations cost, not what the
 * whole payments table costs: these tests hold that it never reads the
 * payments table through, and that it still finds the operation by any of
 * the ids an event carries.
 */
let gh: TestPlatform;
const openSales: { paymentId: string; orderId: string }[] = [];

before(async () => {
  gh = await startTestPlatform();
  // 40 sales waiting for their customers: each has a PayPal order and an open operation.
  for (let index = 0; index < 40; index += 1) {
    const paymentId = `lookup-open-${Date.now()}-${index}`;
    const response = await gh.gate('/v2/payment/wallet/paypal/sale', saleBody(gh.project.id, paymentId));
    assert.equal(response.status, 200, JSON.stringify(response.json));
    openSales.push({ paymentId, orderId: '' });
  }
  for (const sale of openSales) {
    await gh.waitForCallback((callback) => callback.payment.id === sale.paymentId && callback.operation.code === '9999');
    const { rows } = await gh.platform.context.pool.query<{ provider_order_id: string }>(
      'SELECT provider_order_id FROM payments WHERE project_id = $1 AND payment_id = $2',
      [String(gh.project.id), sale.paymentId],
    );
    sale.orderId = rows[0].provider_order_id;
  }
  await copyAsFinishedPayments(openSales[0].paymentId, 1_500);
  await gh.platform.context.pool.query('ANALYZE payments; ANALYZE operations');
});
after(async () => {
  await gh.stop();
});

/** Adds `count` finished copies of a payment (no operations): history the lookup must not read. */
async function copyAsFinishedPayments(paymentId: string, count: number): Promise<void> {
  const pool = gh.platform.context.pool;
  const { rows } = await pool.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns
      WHERE table_schema = 'public' AND table_name = 'payments' AND column_name NOT IN ('id', 'payment_id', 'status', 'provider_order_id')`,
  );
  const columns = rows.map((row) => `"${row.column_name}"`).join(', ');
  const copied = rows.map((row) => `p."${row.column_name}"`).join(', ');
  await pool.query(
    `INSERT INTO payments (payment_id, status, provider_order_id, ${columns})
     SELECT p.payment_id || '-copy-' || n, 'decline', 'COPY-' || n, ${copied}
       FROM payments p CROSS JOIN generate_series(1, $3::int) n
      WHERE p.project_id = $1 AND p.payment_id = $2`,
    [String(gh.project.id), paymentId, count],
  );
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

function scannedThrough(node: PlanNode): string[] {
  const own = node['Node Type'] === 'Seq Scan' && node['Relation Name'] ? [node['Relation Name']] : [];
  return [...own, ...(node.Plans ?? []).flatMap(scannedThrough)];
}

test('matching an event to its operation never reads the payments table through', async () => {
  const client = await gh.platform.context.pool.connect();
  try {
    await client.query(`PREPARE lookup_under_test(text[]) AS ${openOperationByProviderIds}`);
    // The platform sends it as a prepared statement: PostgreSQL may use a plan made for these ids or a generic one.
    for (const mode of ['force_custom_plan', 'force_generic_plan']) {
      await client.query(`SET plan_cache_mode = ${mode}`);
      const { rows } = await client.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(
        `EXPLAIN (FORMAT JSON) EXECUTE lookup_under_test('{${openSales[5].orderId},NOT-AN-ID}')`,
      );
      const plan = rows[0]['QUERY PLAN'][0].Plan;
      assert.deepEqual(scannedThrough(plan), [], `${mode}: ${JSON.stringify(plan)}`);
    }
  } finally {
    await client.query('DEALLOCATE lookup_under_test; RESET plan_cache_mode').catch(() => undefined);
    client.release();
  }
});

test('an event finds its open operation by the order id, and nothing by ids no open operation has', async () => {
  const pool = gh.platform.context.pool;
  const sale = openSales[7];
  const found = await pool.query<{ operation_id: bigint }>(openOperationByProviderIds, [['UNRELATED-ID', sale.orderId]]);
  const { rows: expected } = await pool.query<{ id: bigint }>(
    `SELECT o.id FROM operations o JOIN payments p ON p.id = o.payment_ref WHERE p.project_id = $1 AND p.payment_id = $2`,
    [String(gh.project.id), sale.paymentId],
  );
  assert.equal(found.rows.length, 1);
  assert.equal(String(found.rows[0].operation_id), String(expected[0].id));
  // A finished payment's order (a copy) has no open operation.
  assert.equal((await pool.query(openOperationByProviderIds, [['COPY-12']])).rows.length, 0);
});
