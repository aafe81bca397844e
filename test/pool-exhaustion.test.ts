import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMerchant, createMerchantProject } from '../src/accounts/merchants.ts';
import { createUser } from '../src/accounts/users.ts';
import { DashboardClient, type DashboardResponse } from '../src/dashboard/client.ts';
import type { Project } from '../src/store/projects.ts';
import { createPool } from '../src/store/db.ts';
import { stopTestServer } from './support/database.ts';
import { startTestPlatform, type TestPlatform } from './support/platform.ts';

/**
 * A node whose pool is smaller than the number of audited Dashboard actions
 * running at once. Each action holds one connection for its transaction; if
 * any code inside it read through the pool (a second connection), a full
 * pool of such transactions would wait on each other for ever. Every burst
 * below must finish within a bound, so a regression fails here instead of
 * hanging a production node.
 *
 * One connection: then a single action that holds its transaction and asks
 * the pool for another connection waits for ever, every time. With two, the
 * old code deadlocked on uploads and reports every time but on refunds and
 * payouts only when the FX rate cache happened to be cold while two
 * transactions were open. For the same reason the refunds and payouts run
 * first, while that cache is still cold.
 */
const poolSize = 1;
const concurrentActions = 8;
const burstTimeoutMs = 20_000;
const password = 'correct horse battery staple';

let gh: TestPlatform;
let project: Project;
let admin: DashboardClient;

before(async () => {
  gh = await startTestPlatform({ databasePoolSize: poolSize });
  const pool = gh.platform.context.pool;
  const merchant = await createMerchant(pool, 'Busy Ltd');
  project = await createMerchantProject(pool, merchant.id, { name: 'Busy', mode: 'test', callbackUrl: null });
  await createUser(pool, { email: 'admin@busy.example', role: 'merchant_admin', merchantId: merchant.id, password });
  admin = new DashboardClient(gh.baseUrl);
  assert.equal((await admin.signIn('admin@busy.example', password)).status, 200);
});

after(async () => {
  // A regression leaves requests waiting for a connection for ever, and the node would never stop: bound the teardown too.
  const stopped = await Promise.race([gh?.stop().then(() => true), sleep(burstTimeoutMs).then(() => false)]);
  if (!stopped) process.exit(1);
  await stopTestServer();
});

/** Runs `count` actions at once; fails (rather than hangs) when they do not all answer within the bound. */
async function burst(name: string, action: (index: number) => Promise<DashboardResponse>): Promise<DashboardResponse[]> {
  const answers = Promise.all(Array.from({ length: concurrentActions }, (_, index) => action(index)));
  const timeout = sleep(burstTimeoutMs).then(() => {
    throw new Error(`${name}: ${concurrentActions} concurrent actions on a pool of ${poolSize} did not finish within ${burstTimeoutMs} ms (pool deadlock)`);
  });
  return Promise.race([answers, timeout]);
}

/** Captured purchases to refund, written directly so that nothing warms the FX cache first. */
async function capturedPayments(prefix: string): Promise<string[]> {
  const ids = Array.from({ length: concurrentActions }, (_, index) => `${prefix}-${index}`);
  await gh.platform.context.pool.query(
    `INSERT INTO payments (project_id, payment_id, type, method, status, currency, amount_minor, authorized_minor, captured_minor, provider_capture_id)
     SELECT $1, id, 'purchase', 'paypal', 'success', 'USD', 1000, 1000, 1000, 'CAPTURE-' || id FROM unnest($2::text[]) AS id`,
    [String(project.id), ids],
  );
  return ids;
}

test(`${concurrentActions} concurrent Dashboard refunds complete on a pool of ${poolSize}`, async () => {
  const paymentIds = await capturedPayments(`refund-${Date.now()}`);
  const answers = await burst('refunds', (index) => admin.post(`/projects/${project.id}/payments/${paymentIds[index]}/refund`, { amount: 100, currency: 'USD' }));
  for (const answer of answers) assert.equal(answer.status, 200, answer.text);
});

test(`${concurrentActions} concurrent Dashboard payouts complete on a pool of ${poolSize}`, async () => {
  const prefix = `payout-${Date.now()}`;
  const answers = await burst('payouts', (index) =>
    admin.post(`/projects/${project.id}/payouts`, { payment_id: `${prefix}-${index}`, amount: 500, currency: 'USD', account_number: `payee-${index}@example.com`, customer_id: `c-${index}` }),
  );
  for (const answer of answers) assert.equal(answer.status, 200, answer.text);
});

test(`${concurrentActions} concurrent mass payout uploads complete on a pool of ${poolSize}`, async () => {
  const prefix = `mass-${Date.now()}`;
  const csv = (index: number) =>
    `payment_id,amount,currency,account_number,customer_id\n${prefix}-${index}-1,10.00,USD,a-${index}@example.com,c1\n${prefix}-${index}-2,11.00,EUR,b-${index}@example.com,c2\n`;
  const answers = await burst('mass payout uploads', (index) => admin.post(`/projects/${project.id}/mass-payouts?file_name=f${index}.csv`, undefined, { rawBody: csv(index) }));
  for (const answer of answers) {
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(answer.json.rows, { total: 2, rejected: 0, pending: 2, accepted: 0, failed: 0 });
  }
  // Starting them sends every row through the job, which also runs inside one transaction per take.
  await burst('mass payout starts', (index) => admin.post(`/projects/${project.id}/mass-payouts/${answers[index].json.batch.id}/start`));
  const deadline = Date.now() + burstTimeoutMs;
  let accepted = 0;
  while (Date.now() < deadline) {
    const { rows } = await gh.platform.context.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM mass_payout_rows r JOIN mass_payout_batches b ON b.id = r.batch_id WHERE b.project_id = $1 AND r.status = 'accepted'`,
      [String(project.id)],
    );
    accepted = rows[0].n;
    if (accepted === concurrentActions * 2) break;
    await sleep(100);
  }
  assert.equal(accepted, concurrentActions * 2);
});

test(`${concurrentActions} concurrent stored reports complete on a pool of ${poolSize}`, async () => {
  const answers = await burst('reports', () => admin.post('/reports', { kind: 'payments', from: '2020-01-01', to: '2100-01-01', project_id: Number(project.id) }));
  for (const answer of answers) {
    assert.equal(answer.status, 200, answer.text);
    assert.ok(answer.json.report.row_count >= concurrentActions * 2, JSON.stringify(answer.json.report));
  }
});

test('a query that cannot get a connection fails after the wait instead of hanging', async () => {
  const pool = createPool(gh.database.connectionString, 1, { connectionWaitMs: 300 });
  const held = await pool.connect();
  try {
    const startedAt = Date.now();
    await assert.rejects(pool.query('SELECT 1'), /timeout/i);
    assert.ok(Date.now() - startedAt < 5_000, 'failed after the wait, not later');
  } finally {
    held.release();
  }
  assert.equal((await pool.query('SELECT 1 AS one')).rows[0].one, 1, 'the pool works again once a connection is free');
  await pool.end();
});
