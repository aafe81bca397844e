import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openOperationByOrderId, openOperationByProviderIds } from '../src/webhooks/paypal.ts';
import { planNodes, preparedPlan, type PlanNode } from './support/plans.ts';
import { saleBody, startTestPlatform, type TestPlatform } from './support/platform.ts';

/**
 * A PayPal event is matched to the open operation it is about twice per
 * payment. The match must cost a few index probes, not what the whole
 * payments table or every open operation costs (thousands open while
 * accepted payments wait): these tests hold that neither lookup reads
 * either through, and that they still find the operation by any of the ids
 * an event carries.
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

/** Adds `count` finished copies of a payment, each with a finished operation: history the lookup must not read. */
async function copyAsFinishedPayments(paymentId: string, count: number): Promise<void> {
  const pool = gh.platform.context.pool;
  const otherColumns = async (table: string, own: string[]) => {
    const { rows } = await pool.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 AND NOT (column_name = ANY($2))`,
      [table, own],
    );
    return rows.map((row) => row.column_name);
  };
  const paymentColumns = await otherColumns('payments', ['id', 'payment_id', 'status', 'provider_order_id', 'provider_capture_id']);
  await pool.query(
    `INSERT INTO payments (payment_id, status, provider_order_id, provider_capture_id, ${paymentColumns.map((c) => `"${c}"`).join(', ')})
     SELECT p.payment_id || '-copy-' || n, 'decline', 'COPY-' || n, 'COPY-CAPTURE-' || n, ${paymentColumns.map((c) => `p."${c}"`).join(', ')}
       FROM payments p CROSS JOIN generate_series(1, $3::int) n
      WHERE p.project_id = $1 AND p.payment_id = $2`,
    [String(gh.project.id), paymentId, count],
  );
  const operationColumns = await otherColumns('operations', ['id', 'payment_ref', 'status', 'request_id', 'provider_payment_id']);
  await pool.query(
    `INSERT INTO operations (payment_ref, status, request_id, provider_payment_id, ${operationColumns.map((c) => `"${c}"`).join(', ')})
     SELECT copy.id, 'decline', 'copy-request-' || copy.id, 'COPY-' || copy.id, ${operationColumns.map((c) => `o."${c}"`).join(', ')}
       FROM payments p JOIN operations o ON o.payment_ref = p.id
       JOIN payments copy ON copy.project_id = p.project_id AND copy.payment_id LIKE p.payment_id || '-copy-%'
      WHERE p.project_id = $1 AND p.payment_id = $2`,
    [String(gh.project.id), paymentId],
  );
}

/** The tables a plan reads through, and the open operations when it reads them all (their partial index with no condition). */
function scannedThrough(plan: PlanNode): string[] {
  return planNodes(plan).flatMap((node) =>
    node['Node Type'] === 'Seq Scan' && node['Relation Name']
      ? [node['Relation Name']]
      : node['Index Name'] === 'operations_open' && !node['Index Cond']
        ? ['every open operation']
        : [],
  );
}

test('matching an event to its operation reads neither the payments table nor every open operation through', async () => {
  const lookups = [
    { name: 'by any id', statement: openOperationByProviderIds, parameterType: 'text[]', argument: `'{${openSales[5].orderId},NOT-AN-ID}'` },
    { name: 'by order id', statement: openOperationByOrderId, parameterType: 'text', argument: `'${openSales[5].orderId}'` },
  ];
  const client = await gh.platform.context.pool.connect();
  try {
    for (const lookup of lookups) {
      for (const mode of ['force_custom_plan', 'force_generic_plan'] as const) {
        const plan = await preparedPlan(client, lookup.statement, lookup.parameterType, lookup.argument, mode);
        assert.deepEqual(scannedThrough(plan), [], `${lookup.name}, ${mode}: ${JSON.stringify(plan)}`);
      }
    }
  } finally {
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
  // A finished payment's order, capture or operation (a copy) has no open operation.
  for (const id of ['COPY-12', 'COPY-CAPTURE-12']) assert.equal((await pool.query(openOperationByProviderIds, [[id]])).rows.length, 0, id);
  // The operation's own request id (PayPal-Request-Id; payouts carry it back as sender ids) finds it too.
  const { rows: requestIds } = await pool.query<{ request_id: string }>('SELECT request_id FROM operations WHERE id = $1', [String(expected[0].id)]);
  const byRequestId = await pool.query<{ operation_id: bigint }>(openOperationByProviderIds, [[requestIds[0].request_id]]);
  assert.equal(String(byRequestId.rows[0]?.operation_id), String(expected[0].id));
});

test('by its order id alone, an event finds its payment and the open operation, or says none is open', async () => {
  const pool = gh.platform.context.pool;
  const sale = openSales[9];
  const { rows: expected } = await pool.query<{ id: bigint; payment_ref: bigint }>(
    `SELECT o.id, o.payment_ref FROM operations o JOIN payments p ON p.id = o.payment_ref WHERE p.project_id = $1 AND p.payment_id = $2`,
    [String(gh.project.id), sale.paymentId],
  );
  const open = await pool.query<{ payment_ref: bigint; operation_id: bigint | null }>(openOperationByOrderId, [sale.orderId]);
  assert.equal(String(open.rows[0]?.operation_id), String(expected[0].id));
  assert.equal(String(open.rows[0]?.payment_ref), String(expected[0].payment_ref));
  // A finished payment (a copy): the payment, no operation.
  const finished = await pool.query<{ payment_ref: bigint; operation_id: bigint | null }>(openOperationByOrderId, ['COPY-12']);
  assert.equal(finished.rows.length, 1);
  assert.equal(finished.rows[0].operation_id, null);
  // An order nobody made: no row, so the caller tries the other ids.
  assert.equal((await pool.query(openOperationByOrderId, ['NOT-AN-ORDER'])).rows.length, 0);
});
