import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'csv-parse/sync';
import { createMerchant, createMerchantProject } from '../src/accounts/merchants.ts';
import { createUser } from '../src/accounts/users.ts';
import { DashboardClient } from '../src/dashboard/client.ts';
import type { Project } from '../src/store/projects.ts';
import { stopTestServer } from './support/database.ts';
import { startTestPlatform, type TestPlatform } from './support/platform.ts';

/**
 * Mass payouts from a CSV: a 1,000-row file with 3 bad rows. Exactly those 3
 * are rejected at upload, nothing is sent before the batch is started, the
 * job sends the other 997 through Gate's rules, progress can be polled and
 * the per-row results download as CSV.
 */
const password = 'correct horse battery staple';
let gh: TestPlatform;
let project: Project;
let admin: DashboardClient;

before(async () => {
  gh = await startTestPlatform();
  const pool = gh.platform.context.pool;
  const merchant = await createMerchant(pool, 'Payout Ltd');
  // No callback URL: the 997 payouts' callbacks are stored but not sent, to keep this test light.
  project = await createMerchantProject(pool, merchant.id, { name: 'Payouts', mode: 'test', callbackUrl: null });
  await createUser(pool, { email: 'admin@payout.example', role: 'merchant_admin', merchantId: merchant.id, password });
  admin = new DashboardClient(gh.baseUrl);
  await admin.signIn('admin@payout.example', password);
});
after(async () => {
  await gh?.stop();
  await stopTestServer();
});

const badRows = new Map<number, string>([
  [17, 'currency'],
  [500, 'amount'],
  [999, 'account_number'],
]);

function thousandRowCsv(prefix: string): string {
  const lines = ['payment_id,amount,currency,account_number,customer_id,description'];
  for (let row = 1; row <= 1000; row += 1) {
    const currency = badRows.get(row) === 'currency' ? 'RUB' : row % 3 === 0 ? 'EUR' : 'USD';
    const amount = badRows.get(row) === 'amount' ? '12.345' : `${10 + (row % 50)}.${row % 2 === 0 ? '50' : '00'}`;
    const account = badRows.get(row) === 'account_number' ? '' : `payee-${row}@example.com`;
    lines.push(`${prefix}-${row},${amount},${currency},${account},customer-${row},"Prize, round ${row}"`);
  }
  return `${lines.join('\n')}\n`;
}

test('a 1,000-row payout CSV with 3 bad rows: exactly those rejected, nothing sent before validation, the rest sent by the job', async () => {
  const pool = gh.platform.context.pool;
  const prefix = `mass-${Date.now()}`;
  const uploadStarted = performance.now();
  const upload = await admin.post(`/projects/${project.id}/mass-payouts?file_name=prizes.csv`, undefined, { rawBody: thousandRowCsv(prefix) });
  const uploadMs = performance.now() - uploadStarted;
  assert.equal(upload.status, 200, upload.text);
  assert.equal(upload.json.batch.status, 'validated');
  assert.deepEqual(upload.json.rows, { total: 1000, rejected: 3, pending: 997, accepted: 0, failed: 0 });
  assert.deepEqual(
    upload.json.rejected_rows.map((row: any) => row.row_number),
    [17, 500, 999],
  );
  const reasons = Object.fromEntries(upload.json.rejected_rows.map((row: any) => [row.row_number, row.error]));
  assert.match(reasons[17], /^3025/);
  assert.match(reasons[500], /^2005.*amount/);
  assert.match(reasons[999], /^2005.*account/);
  // A reload (the batch GET) shows the same rejected rows, with the code and message apart.
  const reloaded = await admin.get(`/projects/${project.id}/mass-payouts/${upload.json.batch.id}`);
  assert.deepEqual(reloaded.json.rejected_rows, upload.json.rejected_rows);
  assert.deepEqual(
    reloaded.json.rejected_rows.map((row: any) => [row.row_number, row.payment_id, row.code]),
    [
      [17, `${prefix}-17`, '3025'],
      [500, `${prefix}-500`, '2005'],
      [999, `${prefix}-999`, '2005'],
    ],
  );
  assert.match(reloaded.json.rejected_rows[0].message, /^Currency is not supported by the payment method: RUB/);
  assert.match(reloaded.json.rejected_rows[2].message, /account/);

  // Validation sent nothing.
  const { rows: none } = await pool.query<{ count: string }>('SELECT count(*)::text AS count FROM payments WHERE project_id = $1', [String(project.id)]);
  assert.equal(none[0].count, '0');
  await sleep(1_500);
  assert.equal((await admin.get(`/projects/${project.id}/mass-payouts/${upload.json.batch.id}`)).json.rows.pending, 997, 'still nothing sent before start');

  const sendStarted = performance.now();
  const start = await admin.post(`/projects/${project.id}/mass-payouts/${upload.json.batch.id}/start`, {});
  assert.equal(start.status, 200, start.text);
  let progress = start.json;
  const percents = new Set<number>();
  const deadline = Date.now() + 120_000;
  while (progress.batch.status !== 'done') {
    assert.ok(Date.now() < deadline, `batch finished: ${JSON.stringify(progress.rows)}`);
    await sleep(200);
    progress = (await admin.get(`/projects/${project.id}/mass-payouts/${upload.json.batch.id}`)).json;
    percents.add(progress.progress_percent);
  }
  const sendMs = performance.now() - sendStarted;
  assert.deepEqual(progress.rows, { total: 1000, rejected: 3, pending: 0, accepted: 997, failed: 0 });
  assert.deepEqual(progress.rejected_rows, upload.json.rejected_rows, 'still listed once the batch is done');
  assert.equal(progress.progress_percent, 100);
  const { rows: sent } = await pool.query<{ count: string }>(`SELECT count(*)::text AS count FROM payments WHERE project_id = $1 AND type = 'payout'`, [String(project.id)]);
  assert.equal(sent[0].count, '997');
  const { rows: rejectedPayments } = await pool.query('SELECT payment_id FROM payments WHERE project_id = $1 AND payment_id = ANY($2::text[])', [
    String(project.id),
    [...badRows.keys()].map((row) => `${prefix}-${row}`),
  ]);
  assert.equal(rejectedPayments.length, 0, 'rejected rows were never sent');
  const { rows: amounts } = await pool.query<{ amount_minor: bigint; currency: string; account_number: string }>(
    'SELECT amount_minor, currency, account_number FROM payments WHERE project_id = $1 AND payment_id = $2',
    [String(project.id), `${prefix}-2`],
  );
  assert.deepEqual(amounts[0], { amount_minor: 1250n, currency: 'USD', account_number: 'payee-2@example.com' });

  const results = await admin.get(`/projects/${project.id}/mass-payouts/${upload.json.batch.id}/results.csv`);
  assert.equal(results.status, 200);
  assert.match(results.headers.get('content-type') ?? '', /text\/csv/);
  const records = parse(results.text, { columns: true }) as Record<string, string>[];
  assert.equal(records.length, 1000);
  assert.deepEqual(
    records.filter((record) => record.result === 'rejected').map((record) => Number(record.row_number)),
    [17, 500, 999],
  );
  assert.ok(records.filter((record) => record.result === 'accepted').every((record) => record.request_id !== '' && record.error === ''));
  assert.equal(records[1].amount, '12.50');

  const again = await admin.post(`/projects/${project.id}/mass-payouts/${upload.json.batch.id}/start`, {});
  assert.equal(again.status, 409);
  assert.equal(again.json.code, '7010');
  console.log(
    `mass payouts: rows=1000 rejected=3 upload_validate_ms=${uploadMs.toFixed(0)} send_997_ms=${sendMs.toFixed(0)} progress_samples=${percents.size} payment_statuses=${JSON.stringify(progress.payment_statuses)}`,
  );
});

test('a file with more rejected rows than an answer lists: the first 1,000 by row number, the count says how many in all', async () => {
  const lines = ['payment_id,amount,currency,account_number,customer_id'];
  for (let row = 1; row <= 1_200; row += 1) lines.push(`many-bad-${Date.now()}-${row},1.00,RUB,payee@example.com,c${row}`);
  const upload = await admin.post(`/projects/${project.id}/mass-payouts`, undefined, { rawBody: `${lines.join('\n')}\n` });
  assert.equal(upload.status, 200, upload.text);
  const reloaded = await admin.get(`/projects/${project.id}/mass-payouts/${upload.json.batch.id}`);
  assert.equal(reloaded.json.rows.rejected, 1_200);
  assert.equal(reloaded.json.rejected_rows.length, 1_000);
  assert.deepEqual(reloaded.json.rejected_rows.at(-1).row_number, 1_000);
  assert.ok(reloaded.json.rejected_rows.every((row: any) => row.code === '3025'));
});

test('a re-upload with the same payment ids rejects every row (3041); a malformed file is refused whole (7009)', async () => {
  const prefix = `reupload-${Date.now()}`;
  const csv = `payment_id,amount_minor,currency,account_number,customer_id\n${prefix}-1,1000,USD,a@example.com,c1\n${prefix}-1,1000,USD,a@example.com,c1\n`;
  const first = await admin.post(`/projects/${project.id}/mass-payouts`, undefined, { rawBody: csv });
  assert.deepEqual(first.json.rejected_rows.map((row: any) => [row.row_number, row.error.slice(0, 4)]), [[2, '3041']], 'a payment_id repeated within the file');
  await admin.post(`/projects/${project.id}/mass-payouts/${first.json.batch.id}/start`, {});
  for (let tries = 0; tries < 100; tries += 1) {
    if ((await admin.get(`/projects/${project.id}/mass-payouts/${first.json.batch.id}`)).json.batch.status === 'done') break;
    await sleep(100);
  }
  const second = await admin.post(`/projects/${project.id}/mass-payouts`, undefined, { rawBody: csv });
  assert.equal(second.json.rows.rejected, 2);
  assert.ok(second.json.rejected_rows.every((row: any) => row.error.startsWith('3041')));
  const malformed = await admin.post(`/projects/${project.id}/mass-payouts`, undefined, { rawBody: 'payment_id,amount,currency\n"unterminated,1.00,USD\n' });
  assert.equal(malformed.status, 400);
  assert.equal(malformed.json.code, '7009');
  const missingColumns = await admin.post(`/projects/${project.id}/mass-payouts`, undefined, { rawBody: 'payment_id,amount\nx,1.00\n' });
  assert.equal(missingColumns.json.code, '7009');
  const asJson = await admin.post(`/projects/${project.id}/mass-payouts`, { rows: [] });
  assert.equal(asJson.status, 415);
});
