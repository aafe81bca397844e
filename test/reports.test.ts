import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'csv-parse/sync';
import { createMerchant, createMerchantProject } from '../src/accounts/merchants.ts';
import { createUser } from '../src/accounts/users.ts';
import { DashboardClient } from '../src/dashboard/client.ts';
import { nextBoundary, previousBoundary, runDueReports } from '../src/reports/schedules.ts';
import type { Project } from '../src/store/projects.ts';
import { stopTestServer } from './support/database.ts';
import { startTestPlatform, type TestPlatform } from './support/platform.ts';

/**
 * Reports: streamed CSV exports and stored reports compared with the
 * database, scheduled reports made by the timer, and a 100,000-payment
 * project listed, filtered and exported (figures printed, correctness
 * asserted).
 */
const password = 'correct horse battery staple';
let gh: TestPlatform;
let project: Project;
let admin: DashboardClient;

before(async () => {
  gh = await startTestPlatform();
  const pool = gh.platform.context.pool;
  const merchant = await createMerchant(pool, 'Reports Ltd');
  project = await createMerchantProject(pool, merchant.id, { name: 'Reports', mode: 'test', callbackUrl: null });
  await createUser(pool, { email: 'admin@reports.example', role: 'merchant_admin', merchantId: merchant.id, password });
  admin = new DashboardClient(gh.baseUrl);
  await admin.signIn('admin@reports.example', password);
  // A few real payouts (they finish quickly in the sandbox), one with characters CSV must quote.
  for (let index = 0; index < 5; index += 1) {
    const response = await admin.post(`/projects/${project.id}/payouts`, {
      payment_id: `report-${index}`,
      amount: 1000 + index * 100,
      currency: index % 2 ? 'EUR' : 'USD',
      account_number: `payee-${index}@example.com`,
      customer_id: `c-${index}`,
      description: index === 0 ? 'Quote " and, comma\nnewline' : index === 1 ? '=HYPERLINK("x")' : `payout ${index}`,
    });
    assert.equal(response.status, 200, response.text);
  }
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { rows } = await pool.query<{ open: string }>(`SELECT count(*)::text AS open FROM operations WHERE project_id = $1 AND status = 'processing'`, [String(project.id)]);
    if (rows[0].open === '0') break;
    assert.ok(Date.now() < deadline, 'payouts finished');
    await sleep(100);
  }
});
after(async () => {
  await gh?.stop();
  await stopTestServer();
});

async function databasePayments(projectId: bigint) {
  const { rows } = await gh.platform.context.pool.query(
    `SELECT payment_id, type, status, currency, amount_minor::text AS amount_minor, description, customer ->> 'id' AS customer_id, account_number
       FROM payments WHERE project_id = $1 ORDER BY created_at, id`,
    [String(projectId)],
  );
  return rows.map((row) => ({ ...row, currency: row.currency.trim() }));
}

function csvPayments(text: string) {
  return (parse(text, { columns: true }) as Record<string, string>[]).map((record) => ({
    payment_id: record.payment_id,
    type: record.type,
    status: record.status,
    currency: record.currency,
    amount_minor: record.amount_minor,
    // Formula-looking values are exported with a leading quote (spreadsheet safety).
    description: record.description.replace(/^'(?=[=+\-@])/, ''),
    customer_id: record.customer_id,
    account_number: record.account_number,
  }));
}

describe('exports and stored reports', () => {
  test('payments export streams CSV equal to the database, quoting and formula-escaping included', async () => {
    const response = await admin.get(`/exports/payments.csv?project_id=${project.id}`);
    assert.equal(response.status, 200, response.text);
    assert.match(response.headers.get('content-type') ?? '', /text\/csv/);
    assert.match(response.headers.get('content-disposition') ?? '', /attachment; filename="payments-/);
    assert.equal(response.headers.get('content-length'), null, 'streamed (chunked), not buffered');
    assert.ok(response.text.includes(`"'=HYPERLINK(""x"")"`), 'formula escaped');
    assert.deepEqual(csvPayments(response.text), await databasePayments(project.id));
    const header = response.text.split('\n')[0];
    assert.equal(header, 'project_id,payment_id,type,method,status,currency,amount,amount_minor,captured_minor,refunded_minor,chargeback_minor,customer_id,account_number,description,created_at,updated_at');
  });

  test('operations export equals the database, filters apply', async () => {
    const response = await admin.get(`/exports/operations.csv?project_id=${project.id}&type=payout&status=success`);
    const records = parse(response.text, { columns: true }) as Record<string, string>[];
    const { rows } = await gh.platform.context.pool.query(
      `SELECT id::text AS id, amount_minor::text AS amount_minor, status FROM operations WHERE project_id = $1 AND type = 'payout' AND status = 'success' ORDER BY created_at, id`,
      [String(project.id)],
    );
    assert.equal(records.length, 5);
    assert.deepEqual(
      records.map((record) => [record.operation_id, record.amount_minor, record.status]),
      rows.map((row) => [row.id, row.amount_minor, row.status]),
    );
    assert.equal(records[0].amount, '10.00');
  });

  test('a one-time stored report downloads the same content as the database holds', async () => {
    const created = await admin.post('/reports', { kind: 'payments', project_id: Number(project.id), from: '2000-01-01', to: '2100-01-01' });
    assert.equal(created.status, 200, created.text);
    assert.equal(created.json.report.row_count, 5);
    const download = await admin.get(`/reports/${created.json.report.id}/download`);
    assert.equal(download.status, 200);
    assert.equal(Number(download.headers.get('content-length')), created.json.report.byte_count);
    assert.deepEqual(csvPayments(download.text), await databasePayments(project.id));
    const list = await admin.get('/reports');
    assert.ok(list.json.reports.some((report: any) => report.id === created.json.report.id));
  });

  test('a scheduled daily report is generated once per period by the timer and stored for download', async () => {
    const schedule = await admin.post('/report-schedules', { kind: 'payments', frequency: 'daily', project_id: Number(project.id) });
    assert.equal(schedule.status, 200, schedule.text);
    const nextRun = new Date(schedule.json.schedule.next_run_at);
    assert.equal(nextRun.getTime(), nextBoundary('daily', new Date()).getTime());
    const context = gh.platform.context;
    const realNow = context.now;
    context.now = () => new Date(nextRun.getTime() + 60_000);
    try {
      assert.equal(await runDueReports(context), 1);
      assert.equal(await runDueReports(context), 0, 'each period once');
    } finally {
      context.now = realNow;
    }
    const reports = (await admin.get('/reports')).json.reports.filter((report: any) => report.schedule_id === schedule.json.schedule.id);
    assert.equal(reports.length, 1);
    assert.equal(reports[0].period_to, nextRun.toISOString());
    assert.equal(reports[0].period_from, previousBoundary('daily', nextRun).toISOString());
    const download = await admin.get(`/reports/${reports[0].id}/download`);
    assert.deepEqual(csvPayments(download.text), await databasePayments(project.id), 'today’s payments, all of them');
    const schedules = await admin.get('/report-schedules');
    assert.equal(schedules.json.schedules[0].next_run_at, new Date(nextRun.getTime() + 86_400_000).toISOString());
    assert.equal((await admin.delete(`/report-schedules/${schedule.json.schedule.id}`)).status, 200);
  });

  test('period boundaries: days, Monday weeks and calendar months in UTC', () => {
    const at = new Date('2026-01-31T15:00:00Z'); // a Saturday
    assert.equal(nextBoundary('daily', at).toISOString(), '2026-02-01T00:00:00.000Z');
    assert.equal(nextBoundary('weekly', at).toISOString(), '2026-02-02T00:00:00.000Z');
    assert.equal(nextBoundary('monthly', at).toISOString(), '2026-02-01T00:00:00.000Z');
    assert.equal(previousBoundary('monthly', new Date('2026-03-01T00:00:00Z')).toISOString(), '2026-02-01T00:00:00.000Z');
    assert.equal(previousBoundary('weekly', new Date('2026-02-02T00:00:00Z')).toISOString(), '2026-01-26T00:00:00.000Z');
    assert.equal(nextBoundary('weekly', new Date('2026-02-02T00:00:00Z')).toISOString(), '2026-02-09T00:00:00.000Z');
  });
});

describe('a 100,000-payment project', () => {
  const paymentCount = 100_000;
  let big: Project;

  before(async () => {
    const pool = gh.platform.context.pool;
    const merchantId = (await pool.query<{ merchant_id: string }>('SELECT merchant_id::text AS merchant_id FROM projects WHERE id = $1', [String(project.id)])).rows[0].merchant_id;
    big = await createMerchantProject(pool, BigInt(merchantId), { name: 'Big', mode: 'production', callbackUrl: null });
    const seedStarted = performance.now();
    // One statement: 100,000 payments over 90 days, mixed statuses, types, currencies and customers.
    await pool.query(
      `INSERT INTO payments (project_id, payment_id, type, method, status, currency, amount_minor, authorized_minor, captured_minor, refunded_minor,
                             description, customer, account_number, created_at, updated_at)
       SELECT $1, 'big-' || i,
              CASE WHEN i % 20 = 0 THEN 'payout' ELSE 'purchase' END, 'paypal',
              (ARRAY['success','success','success','success','success','success','decline','refunded','partially refunded','processing'])[i % 10 + 1],
              (ARRAY['USD','EUR','GBP'])[i % 3 + 1],
              100 + (i % 997) * 10, 0, 0, 0,
              'order ' || i, jsonb_build_object('id', 'cust-' || (i % 5000), 'ip_address', '192.0.2.1'), 'acct-' || i,
              now() - make_interval(days => i % 90, secs => i % 86400), now() - make_interval(days => i % 90, secs => i % 86400)
         FROM generate_series(1, ${paymentCount}) AS i`,
      [String(big.id)],
    );
    await pool.query(
      `INSERT INTO operations (payment_ref, project_id, type, status, amount_minor, currency, converted_amount_minor, converted_currency, request_id, code, message, created_at, completed_at)
       SELECT id, project_id, CASE type WHEN 'payout' THEN 'payout' ELSE 'sale' END,
              CASE status WHEN 'processing' THEN 'processing' WHEN 'decline' THEN 'decline' ELSE 'success' END,
              amount_minor, currency, amount_minor, currency, 'seed-' || id, '0', 'Success', created_at, created_at
         FROM payments WHERE project_id = $1`,
      [String(big.id)],
    );
    await pool.query('ANALYZE payments');
    await pool.query('ANALYZE operations');
    console.log(`100k: seeded ${paymentCount} payments and their operations in ${(performance.now() - seedStarted).toFixed(0)} ms`);
  });

  test('listing pages by keyset, filtering, searching and exporting: correct results, timings printed', async () => {
    const pool = gh.platform.context.pool;
    const figures: string[] = [];
    const timed = async <T>(label: string, work: () => Promise<T>): Promise<T> => {
      const started = performance.now();
      const result = await work();
      figures.push(`${label}=${(performance.now() - started).toFixed(0)}ms`);
      return result;
    };

    // First pages, newest first, keyset paging without gaps or repeats.
    const firstPage = await timed('list_first_page_50', () => admin.get(`/payments?project_id=${big.id}&limit=50`));
    assert.equal(firstPage.status, 200, firstPage.text);
    const expectedFirst = await pool.query<{ payment_id: string }>(
      'SELECT payment_id FROM payments WHERE project_id = $1 ORDER BY created_at DESC, id DESC LIMIT 150',
      [String(big.id)],
    );
    const secondPage = await timed('list_page_2', () => admin.get(`/payments?project_id=${big.id}&limit=50&cursor=${firstPage.json.next_cursor}`));
    const thirdPage = await timed('list_page_3', () => admin.get(`/payments?project_id=${big.id}&limit=50&cursor=${secondPage.json.next_cursor}`));
    assert.deepEqual(
      [...firstPage.json.payments, ...secondPage.json.payments, ...thirdPage.json.payments].map((payment: any) => payment.payment_id),
      expectedFirst.rows.map((row) => row.payment_id),
    );
    const allMerchantProjects = await timed('list_first_page_all_projects', () => admin.get('/payments?limit=50'));
    assert.equal(allMerchantProjects.json.payments.length, 50);

    // A filter: refunded purchases in a 10-day window, paged through with limit 500.
    const to = new Date(Date.now() - 10 * 86_400_000);
    const from = new Date(to.getTime() - 10 * 86_400_000);
    const filter = `project_id=${big.id}&status=refunded&type=purchase&from=${from.toISOString()}&to=${to.toISOString()}`;
    const filtered: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    await timed('filter_all_pages', async () => {
      do {
        const page: any = await admin.get(`/payments?${filter}&limit=500${cursor ? `&cursor=${cursor}` : ''}`);
        assert.equal(page.status, 200, page.text);
        filtered.push(...page.json.payments.map((payment: any) => payment.payment_id));
        cursor = page.json.next_cursor;
        pages += 1;
      } while (cursor && pages < 100);
    });
    const expectedFiltered = await pool.query<{ payment_id: string }>(
      `SELECT payment_id FROM payments WHERE project_id = $1 AND status = 'refunded' AND type = 'purchase' AND created_at >= $2 AND created_at < $3
        ORDER BY created_at DESC, id DESC`,
      [String(big.id), from, to],
    );
    assert.ok(expectedFiltered.rows.length > 500, `a filter with several pages (${expectedFiltered.rows.length})`);
    assert.deepEqual(filtered, expectedFiltered.rows.map((row) => row.payment_id));
    figures.push(`filter_rows=${filtered.length} filter_pages=${pages}`);

    // Search by payment id, customer id, account number.
    const byPayment = await timed('search_payment_id', () => admin.get(`/payments?project_id=${big.id}&q=big-4242`));
    assert.deepEqual(byPayment.json.payments.map((payment: any) => payment.payment_id), ['big-4242']);
    const byCustomer = await timed('search_customer_id', () => admin.get(`/payments?project_id=${big.id}&q=cust-77&limit=500`));
    const expectedCustomer = await pool.query<{ count: string }>(`SELECT count(*)::text AS count FROM payments WHERE project_id = $1 AND customer ->> 'id' = 'cust-77'`, [
      String(big.id),
    ]);
    assert.equal(byCustomer.json.payments.length, Number(expectedCustomer.rows[0].count));
    assert.ok(byCustomer.json.payments.every((payment: any) => payment.customer_id === 'cust-77'));
    const byAccount = await timed('search_account_number', () => admin.get(`/payments?project_id=${big.id}&q=acct-99999`));
    assert.deepEqual(byAccount.json.payments.map((payment: any) => payment.account_number), ['acct-99999']);

    // Export everything through the streaming CSV, reading it as it arrives.
    const rssBefore = process.memoryUsage().rss;
    const exported = await timed('export_payments_100k', async () => {
      const response = await fetch(`${gh.baseUrl}/dashboard/api/exports/payments.csv?project_id=${big.id}`, { headers: { cookie: admin.cookie! } });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-length'), null);
      let lines = 0;
      let bytes = 0;
      let amountSum = 0n;
      let carry = '';
      let firstRow: string | undefined;
      const decoder = new TextDecoder();
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        bytes += chunk.length;
        const text = carry + decoder.decode(chunk, { stream: true });
        const parts = text.split('\n');
        carry = parts.pop()!;
        for (const line of parts) {
          lines += 1;
          if (lines === 2) firstRow = line;
          // amount_minor is the 8th column; descriptions here ("order N") never hold commas.
          if (lines > 1) amountSum += BigInt(line.split(',')[7]);
        }
      }
      return { rows: lines - 1, bytes, amountSum, firstRow };
    });
    const rssGrowthMb = (process.memoryUsage().rss - rssBefore) / 1_048_576;
    const expectedSum = await pool.query<{ sum: string; first: string }>(
      `SELECT sum(amount_minor)::text AS sum, (SELECT payment_id FROM payments WHERE project_id = $1 ORDER BY created_at, id LIMIT 1) AS first
         FROM payments WHERE project_id = $1`,
      [String(big.id)],
    );
    assert.equal(exported.rows, paymentCount);
    assert.equal(exported.amountSum.toString(), expectedSum.rows[0].sum);
    assert.equal(exported.firstRow!.split(',')[1], expectedSum.rows[0].first);
    figures.push(`export_bytes=${exported.bytes} rss_growth_mb_server_and_client=${rssGrowthMb.toFixed(1)}`);

    const operations = await timed('export_operations_100k', async () => {
      const response = await fetch(`${gh.baseUrl}/dashboard/api/exports/operations.csv?project_id=${big.id}`, { headers: { cookie: admin.cookie! } });
      let newlines = 0;
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) for (const byte of chunk) if (byte === 10) newlines += 1;
      return newlines - 1;
    });
    assert.equal(operations, paymentCount);
    const series = await timed('daily_series_90_days', () => admin.get(`/stats/daily?project_id=${big.id}&from=${new Date(Date.now() - 91 * 86_400_000).toISOString()}`));
    const volume = series.json.days.reduce((sum: bigint, day: any) => sum + BigInt(day.volume_minor), 0n);
    const expectedVolume = await pool.query<{ sum: string }>(
      `SELECT COALESCE(sum(amount_minor), 0)::text AS sum FROM operations WHERE project_id = $1 AND type = 'sale' AND status = 'success' AND created_at >= $2`,
      [String(big.id), new Date(Date.now() - 91 * 86_400_000)],
    );
    assert.equal(volume.toString(), expectedVolume.rows[0].sum);
    const attempts = series.json.days.reduce((sum: number, day: any) => sum + day.attempts, 0);
    const approved = series.json.days.reduce((sum: number, day: any) => sum + day.approved, 0);
    const expectedRates = await pool.query<{ attempts: number; approved: number }>(
      `SELECT count(*) FILTER (WHERE status IN ('success', 'decline'))::int AS attempts, count(*) FILTER (WHERE status = 'success')::int AS approved
         FROM operations WHERE project_id = $1 AND type = 'sale' AND created_at >= $2`,
      [String(big.id), new Date(Date.now() - 91 * 86_400_000)],
    );
    assert.deepEqual({ attempts, approved }, expectedRates.rows[0]);
    const someDay = series.json.days.find((day: any) => day.attempts > 0);
    assert.equal(someDay.approval_rate, (Math.round((someDay.approved / someDay.attempts) * 10_000) / 10_000).toFixed(4));
    figures.push(`series_rows=${series.json.days.length} approval_rate_overall=${(approved / attempts).toFixed(4)}`);
    console.log(`100k: ${figures.join(' ')}`);
  });
});
