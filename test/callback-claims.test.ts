import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { deliverCallback, recordFinalAttempts, recordFinalAttemptsStatement } from '../src/callbacks/deliver.ts';
import { CallbackDispatcher, claimDueCallbacks } from '../src/callbacks/dispatcher.ts';
import type { PlatformContext } from '../src/processing/context.ts';
import { createPool, withTransaction } from '../src/store/db.ts';
import { enqueueCallback } from '../src/processing/outbox.ts';
import { findOperation, findPayment } from '../src/store/payments.ts';
import { planNodes, preparedPlan } from './support/plans.ts';
import { saleBody, startTestPlatform, type TestPlatform } from './support/platform.ts';

/**
 * Callbacks are claimed for delivery from their own table (no queue job per
 * callback). These tests hold the two promises that replace the queue's:
 * nodes claiming together never deliver one callback twice, and a claim whose
 * node died runs out, after which the callback is delivered. The same two
 * hold for callbacks written already claimed by the node that writes them.
 */
let gh: TestPlatform;

before(async () => {
  gh = await startTestPlatform();
});

after(async () => {
  await gh.stop();
});

/** Writes `count` pending callbacks of one real payment, each with its own `payment.id` in the body, in the caller's transaction. */
async function insertCallbacks(db: { query: PlatformContext['pool']['query'] }, prefix: string, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, index) => `${prefix}-${index}`);
  const { rows } = await db.query<{ id: string }>(
    `WITH p AS (INSERT INTO payments (project_id, payment_id, type, method, status, currency, amount_minor)
                VALUES ($1, $2, 'purchase', 'paypal', 'success', 'USD', 100) RETURNING id)
     INSERT INTO callbacks (project_id, payment_ref, kind, url, body, next_attempt_at)
     SELECT $1, p.id, 'final', $3, json_build_object('payment', json_build_object('id', body_id))::text, now()
       FROM p, unnest($4::text[]) AS body_id
     RETURNING id::text`,
    [String(gh.project.id), `${prefix}-source`, gh.receiver.url, ids],
  );
  assert.equal(rows.length, count);
  return ids;
}

async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await sleep(50);
  }
  throw new Error(`${what} within ${timeoutMs} ms`);
}

/** A second node's callback delivery: its own pool and slots, the same database; it counts the attempts it makes. */
function startSecondNode(pollingIntervalMs: number) {
  const pool = createPool(gh.platform.databaseUrl, 4);
  const node = { attempts: 0, stop: async () => {} };
  const dispatcher = new CallbackDispatcher(
    { ...gh.platform.context, pool, onCallbackAttempt: () => (node.attempts += 1) },
    { slots: 8, pollingIntervalMs, leaseSeconds: 30 },
  );
  dispatcher.start();
  node.stop = async () => {
    await dispatcher.stop(5_000);
    await pool.end();
  };
  return node;
}

test('two nodes claiming the same due callbacks deliver each one exactly once', async () => {
  const context = gh.platform.context;
  const secondNode = startSecondNode(100);
  try {
    const ids = await withTransaction(context.pool, (tx) => insertCallbacks(tx, 'claims-race', 300));
    context.callbacks.wake();
    await waitUntil(() => ids.every((id) => gh.callbacksFor(id).length > 0), 20_000, 'all 300 callbacks received');
    // Give a duplicate delivery, if there were one, the time to arrive.
    await sleep(500);
    const received = ids.map((id) => gh.callbacksFor(id).length);
    assert.deepEqual(received.filter((times) => times !== 1), [], 'each callback received once');
    const { rows } = await context.pool.query<{ status: string; attempts: number; recorded: number }>(
      `SELECT c.status, c.attempts, (SELECT count(*)::int FROM callback_attempts a WHERE a.callback_id = c.id) AS recorded
         FROM callbacks c JOIN payments p ON p.id = c.payment_ref WHERE p.payment_id = 'claims-race-source'`,
    );
    assert.equal(rows.length, 300);
    assert.ok(rows.every((row) => row.status === 'delivered' && row.attempts === 1 && row.recorded === 1), 'one attempt each, recorded once');
    assert.ok(secondNode.attempts > 0 && secondNode.attempts < 300, `both nodes delivered some (the second node: ${secondNode.attempts})`);
  } finally {
    await secondNode.stop();
  }
});

test('a claim whose node died runs out; another node then delivers the callback, once', async () => {
  const context = gh.platform.context;
  const leaseSeconds = 2;
  // The "dead node": it claims the callback as it is written and never delivers it.
  const claimedAtMs = Date.now();
  const [id] = await withTransaction(context.pool, async (tx) => {
    const written = await insertCallbacks(tx, 'claims-dead-node', 1);
    const claimed = await claimDueCallbacks(tx, 10, leaseSeconds);
    assert.equal(claimed.length, 1, 'the dead node held exactly the new callback');
    return written;
  });
  context.callbacks.wake();
  await sleep(1_000);
  assert.equal(gh.callbacksFor(id).length, 0, 'nobody delivers a callback while its claim holds');
  await waitUntil(() => gh.callbacksFor(id).length > 0, 10_000, 'the callback delivered after the claim ran out');
  const deliveredAtMs = gh.receiver.callbacks.find((callback) => callback.body.payment?.id === id)!.receivedAt;
  assert.ok(deliveredAtMs - claimedAtMs >= leaseSeconds * 1000 - 100, `delivered ${deliveredAtMs - claimedAtMs} ms after the claim`);
  await sleep(300);
  assert.equal(gh.callbacksFor(id).length, 1);
});

test('attempts that end at once are each recorded once with their own number; the same callback twice is recorded once', async () => {
  const context = gh.platform.context;
  // Written not due (in the same transaction), so only these direct deliveries send them.
  const ids = await withTransaction(context.pool, async (tx) => {
    const written = await insertCallbacks(tx, 'claims-record', 20);
    await tx.query(
      `UPDATE callbacks SET next_attempt_at = now() + interval '1 hour' WHERE payment_ref = (SELECT id FROM payments WHERE payment_id = 'claims-record-source')`,
    );
    return written;
  });
  const { rows } = await context.pool.query<{ id: string }>(
    `SELECT c.id::text FROM callbacks c JOIN payments p ON p.id = c.payment_ref WHERE p.payment_id = 'claims-record-source' ORDER BY c.id`,
  );
  const reports: { callbackId: bigint; attempt: number }[] = [];
  const recording = { ...context, onCallbackAttempt: (report: { callbackId: bigint; attempt: number }) => reports.push(report) };
  // Twenty at once, the first of them twice (as when a replay races its own delivery).
  await Promise.all([...rows, rows[0]].map((row) => deliverCallback(recording, BigInt(row.id))));
  assert.equal(gh.callbacksFor(ids[0]).length, 2, 'the doubled one was sent twice');
  const recorded = await context.pool.query<{ attempts: number; status: string; rows: number }>(
    `SELECT c.attempts, c.status, (SELECT count(*)::int FROM callback_attempts a WHERE a.callback_id = c.id) AS rows
       FROM callbacks c JOIN payments p ON p.id = c.payment_ref WHERE p.payment_id = 'claims-record-source'`,
  );
  assert.ok(recorded.rows.every((row) => row.attempts === 1 && row.status === 'delivered' && row.rows === 1), JSON.stringify(recorded.rows));
  assert.equal(reports.length, 20, 'one report per recorded attempt: the repeat found the callback delivered');
  assert.ok(reports.every((report) => report.attempt === 1));
});

test('one statement records the final attempts of a turn: a callback named twice in it gets one attempt, the repeat none', async () => {
  const context = gh.platform.context;
  const rows = await withTransaction(context.pool, async (tx) => {
    await insertCallbacks(tx, 'claims-batch', 2);
    const written = await tx.query<{ id: string }>(
      `UPDATE callbacks SET next_attempt_at = NULL WHERE payment_ref = (SELECT id FROM payments WHERE payment_id = 'claims-batch-source') RETURNING id::text`,
    );
    return written.rows.sort((a, b) => Number(a.id) - Number(b.id));
  });
  const attempt = { httpStatus: 200, latencyMs: 3, responseExcerpt: 'OK', error: null };
  const [first, second] = rows.map((row) => BigInt(row.id));
  const numbers = await recordFinalAttempts(context.pool, [
    { callbackId: first, status: 'delivered', attempt },
    { callbackId: second, status: 'failed', attempt: { ...attempt, httpStatus: null, error: 'refused' } },
    { callbackId: first, status: 'delivered', attempt },
  ]);
  assert.deepEqual(numbers, [1, 1, undefined]);
  const stored = await context.pool.query<{ id: string; status: string; attempts: number; rows: number }>(
    `SELECT c.id::text, c.status, c.attempts, (SELECT count(*)::int FROM callback_attempts a WHERE a.callback_id = c.id) AS rows
       FROM callbacks c WHERE c.id = ANY($1::bigint[]) ORDER BY c.id`,
    [rows.map((row) => row.id)],
  );
  assert.deepEqual(stored.rows.map(({ status, attempts, rows: count }) => ({ status, attempts, count })), [
    { status: 'delivered', attempts: 1, count: 1 },
    { status: 'failed', attempts: 1, count: 1 },
  ]);
});

test('recording a turn reads the callbacks by their keys, not through the backlog of pending ones, in the plan a connection keeps', async () => {
  const context = gh.platform.context;
  // A backlog the platform will not deliver during the test: 2,000 pending callbacks due tomorrow.
  await withTransaction(context.pool, async (tx) => {
    await insertCallbacks(tx, 'claims-backlog', 2_000);
    await tx.query(`UPDATE callbacks SET next_attempt_at = now() + interval '1 day' WHERE payment_ref = (SELECT id FROM payments WHERE payment_id = 'claims-backlog-source')`);
  });
  const client = await context.pool.connect();
  try {
    await client.query('ANALYZE callbacks');
    const { rows } = await client.query<{ id: string }>(`SELECT id::text FROM callbacks ORDER BY id DESC LIMIT 3`);
    const input = JSON.stringify(rows.map((row, ordinal) => ({ ordinal, id: row.id, status: 'delivered', http_status: 200, latency_ms: 3, response_excerpt: 'OK', error: null })));
    for (const mode of ['force_generic_plan', 'force_custom_plan'] as const) {
      const plan = await preparedPlan(client, recordFinalAttemptsStatement, 'jsonb', client.escapeLiteral(input), mode);
      const reads = planNodes(plan).filter((node) => node['Relation Name'] === 'callbacks' && /Scan/.test(node['Node Type']));
      assert.deepEqual(reads.map((node) => node['Index Name'] ?? node['Node Type']), ['callbacks_pkey'], `${mode}: callbacks read by key only`);
    }
  } finally {
    client.release();
    await context.pool.query(`DELETE FROM callbacks WHERE payment_ref = (SELECT id FROM payments WHERE payment_id = 'claims-backlog-source')`);
  }
});

/** A sale waiting for its customer, with its payment and operation as stored: facts to write callbacks about. */
async function waitingSale(paymentId: string) {
  const context = gh.platform.context;
  const response = await gh.gate('/v2/payment/wallet/paypal/sale', saleBody(gh.project.id, paymentId));
  assert.equal(response.status, 200, JSON.stringify(response.json));
  await gh.waitForCallback((callback) => callback.payment.id === paymentId && callback.operation.code === '9999');
  const payment = (await findPayment(context.pool, gh.project.id, paymentId))!;
  const { rows } = await context.pool.query<{ id: bigint }>('SELECT id FROM operations WHERE payment_ref = $1', [String(payment.ref)]);
  const operation = (await findOperation(context.pool, BigInt(rows[0].id)))!;
  return { payment, operation };
}

async function attemptsOf(paymentRef: bigint, kind: 'final'): Promise<{ status: string; attempts: number; recorded: number }[]> {
  const { rows } = await gh.platform.context.pool.query<{ status: string; attempts: number; recorded: number }>(
    `SELECT c.status, c.attempts, (SELECT count(*)::int FROM callback_attempts a WHERE a.callback_id = c.id) AS recorded
       FROM callbacks c WHERE c.payment_ref = $1 AND c.kind = $2`,
    [String(paymentRef), kind],
  );
  return rows;
}

test('callbacks written on a delivering node are delivered by it, each once, while another node claiming meanwhile gets none', async () => {
  const context = gh.platform.context;
  const { payment, operation } = await waitingSale(`handoff-${Date.now()}`);
  const secondNode = startSecondNode(50);
  try {
    // Written as the platform writes them: born claimed by this node, handed to its delivery after each commit.
    await Promise.all(
      Array.from({ length: 40 }, () => withTransaction(context.pool, (tx) => enqueueCallback(context, tx, gh.project, 'final', { payment, operation }))),
    );
    await waitUntil(async () => (await attemptsOf(payment.ref, 'final')).filter((row) => row.status === 'delivered').length === 40, 10_000, '40 delivered');
    await sleep(300);
    assert.equal(gh.callbacksFor(payment.paymentId).length, 1 + 40, 'the intermediate callback and each final one once');
    assert.ok((await attemptsOf(payment.ref, 'final')).every((row) => row.attempts === 1 && row.recorded === 1));
    assert.equal(secondNode.attempts, 0, 'the other node claimed none of them');
  } finally {
    await secondNode.stop();
  }
});

test('a callback handed to a node that died before sending it is delivered once its lease runs out, once', async () => {
  const context = gh.platform.context;
  const { payment, operation } = await waitingSale(`handoff-dead-${Date.now()}`);
  const leaseSeconds = 2;
  // The "dead node": it writes the callback claimed for itself, and never delivers it.
  const deadNode = { ...context, callbacks: { wake: () => undefined, handOffLeaseSeconds: () => leaseSeconds, handOff: () => undefined } };
  const writtenAtMs = Date.now();
  await withTransaction(context.pool, (tx) => enqueueCallback(deadNode, tx, gh.project, 'final', { payment, operation }));
  context.callbacks.wake();
  await sleep(1_000);
  assert.equal(gh.callbacksFor(payment.paymentId).length, 1, 'nobody sends it while the lease holds (only the intermediate one arrived)');
  await waitUntil(() => gh.callbacksFor(payment.paymentId).length === 2, 10_000, 'the callback delivered after the lease ran out');
  const finalArrivedAtMs = gh.receiver.callbacks.filter((callback) => callback.body.payment?.id === payment.paymentId).at(-1)!.receivedAt;
  assert.ok(finalArrivedAtMs - writtenAtMs >= leaseSeconds * 1000 - 100, `delivered ${finalArrivedAtMs - writtenAtMs} ms after it was written`);
  await sleep(300);
  assert.equal(gh.callbacksFor(payment.paymentId).length, 2);
  assert.deepEqual(await attemptsOf(payment.ref, 'final'), [{ status: 'delivered', attempts: 1, recorded: 1 }]);
});
