import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createMerchant, createMerchantProject } from '../src/accounts/merchants.ts';
import { createUser } from '../src/accounts/users.ts';
import { DashboardClient } from '../src/dashboard/client.ts';
import { dashboardRouteTable } from '../src/dashboard/http.ts';
import { signDataApiRequest } from '../src/data-api/index.ts';
import { sweepPciReminders } from '../src/notifications/sweep.ts';
import { findProject, type Project } from '../src/store/projects.ts';
import { stopTestServer } from './support/database.ts';
import { actAtApprovalPage, saleBody, startTestPlatform, type TestPlatform } from './support/platform.ts';

/**
 * Merchant isolation: a merchant's admin tries EVERY Dashboard API route and
 * every Data API endpoint with another merchant's ids. Each must answer 403
 * or 404, lists must not show the other merchant's data, and nothing of the
 * other merchant may change. A route added without a probe here fails the
 * test, so new endpoints cannot skip the check.
 */
const password = 'correct horse battery staple';
let gh: TestPlatform;
let projectA: Project;
let projectB: Project;
let adminA: DashboardClient;
let adminB: DashboardClient;
let dataKeyA: { userId: number; secret: string };
const other = {} as {
  merchantId: number;
  paymentId: string;
  callbackId: number;
  batchId: number;
  reportId: number;
  scheduleId: number;
  userId: number;
  keyId: number;
  linkId: string;
  notificationId: number;
};

before(async () => {
  gh = await startTestPlatform();
  const pool = gh.platform.context.pool;
  const merchantA = await createMerchant(pool, 'Merchant A');
  const merchantB = await createMerchant(pool, 'Merchant B');
  other.merchantId = Number(merchantB.id);
  projectA = await createMerchantProject(pool, merchantA.id, { name: 'A test', mode: 'test', callbackUrl: gh.receiver.url });
  projectB = await createMerchantProject(pool, merchantB.id, { name: 'B test', mode: 'test', callbackUrl: gh.receiver.url });
  await createUser(pool, { email: 'admin@a.example', role: 'merchant_admin', merchantId: merchantA.id, password });
  await createUser(pool, { email: 'admin@b.example', role: 'merchant_admin', merchantId: merchantB.id, password });
  adminA = new DashboardClient(gh.baseUrl);
  adminB = new DashboardClient(gh.baseUrl);
  await adminA.signIn('admin@a.example', password);
  await adminB.signIn('admin@b.example', password);

  // Merchant B's data: a paid purchase with callbacks, a mass payout batch, a report, a schedule, a user, a Data API key.
  other.paymentId = `b-sale-${Date.now()}`;
  await gh.gate('/v2/payment/wallet/paypal/sale', saleBody(projectB.id, other.paymentId, 1000), { secret: projectB.secretKey });
  const intermediate = await gh.waitForCallback((callback) => callback.payment.id === other.paymentId && callback.operation.code === '9999');
  await actAtApprovalPage(intermediate.redirect_data.url, 'approve');
  await gh.waitForCallback((callback) => callback.payment.id === other.paymentId && callback.operation.code !== '9999');
  const detail = await adminB.get(`/projects/${projectB.id}/payments/${other.paymentId}`);
  other.callbackId = detail.json.callbacks[0].id;
  const batch = await adminB.post(`/projects/${projectB.id}/mass-payouts`, undefined, {
    rawBody: 'payment_id,amount,currency,account_number,customer_id\nb-payout-1,10.00,USD,payee@example.com,c1\n',
  });
  other.batchId = batch.json.batch.id;
  const report = await adminB.post('/reports', { kind: 'payments', from: '2020-01-01', to: '2100-01-01' });
  other.reportId = report.json.report.id;
  other.scheduleId = (await adminB.post('/report-schedules', { kind: 'operations', frequency: 'weekly' })).json.schedule.id;
  other.userId = (await adminB.post('/users', { email: 'viewer@b.example', role: 'merchant_viewer', password })).json.user.id;
  other.keyId = (await adminB.post('/data-api-keys', {})).json.key.id;
  other.linkId = (await adminB.post(`/projects/${projectB.id}/payment-links`, { amount: 1500, currency: 'USD', description: 'B invoice', single_use: true })).json.link.id;
  // Neither merchant has PCI DSS documents: the sweep gives each its "missing" notices.
  await sweepPciReminders(gh.platform.context);
  other.notificationId = (await adminB.get('/notifications')).json.notifications[0].id;
  const keyA = await adminA.post('/data-api-keys', {});
  dataKeyA = { userId: keyA.json.user_id, secret: keyA.json.secret_key };
  // Merchant A has a payment of its own, so "lists show only mine" is not vacuous.
  await adminA.post(`/projects/${projectA.id}/payouts`, { payment_id: `a-payout-${Date.now()}`, amount: 700, currency: 'USD', account_number: 'a@example.com', customer_id: 'ca' });
});
after(async () => {
  await gh?.stop();
  await stopTestServer();
});

type Probe = { method: string; path: string; body?: unknown; rawBody?: string; expect: 'refused' | 'own-only' };

/** How each route is probed with merchant B's ids. Keys are `METHOD /url` as registered. */
function probesFor(method: string, url: string): Probe[] {
  const A = projectA.id;
  const B = projectB.id;
  const substitute = (projectId: bigint) =>
    url
      .replace('/dashboard/api', '')
      .replace(':projectId', String(projectId))
      .replace(':paymentId', encodeURIComponent(other.paymentId))
      .replace(':callbackId', String(other.callbackId))
      .replace(':batchId', String(other.batchId))
      .replace(':reportId', String(other.reportId))
      .replace(':scheduleId', String(other.scheduleId))
      .replace(':userId', String(other.userId))
      .replace(':keyId', String(other.keyId))
      .replace(':merchantId', String(other.merchantId))
      .replace(':notificationId', String(other.notificationId))
      .replace(':base', 'USD')
      .replace(':quote', 'EUR');
  const bodies: Record<string, unknown> = {
    payouts: { payment_id: `steal-${Date.now()}`, amount: 500, currency: 'USD', account_number: 'thief@example.com', customer_id: 'x' },
    refund: { amount: 100, currency: 'USD' },
    settings: { callback_url: 'https://thief.example/cb' },
    users: { disabled: true },
    links: { amount: 100, currency: 'USD', description: 'stolen link', single_use: false },
  };
  const bodyFor = (path: string) =>
    path.endsWith('/payouts') ? bodies.payouts : path.endsWith('/payment-links') ? bodies.links : path.endsWith('/refund') ? bodies.refund : path.endsWith('/settings') ? bodies.settings : path.includes('/users/') ? bodies.users : {};
  const relative = url.replace('/dashboard/api', '');
  const probes: Probe[] = [];
  if (relative.startsWith('/operator/')) {
    probes.push({ method, path: substitute(B), body: method === 'GET' || method === 'DELETE' ? undefined : { name: 'x', rate: '1', state: 'revoked', fees: [], kind: 'asv_scan', issued_on: '2026-01-01' }, expect: 'refused' });
    return probes;
  }
  if (relative.includes(':projectId')) {
    const path = substitute(B);
    probes.push({ method, path, body: method === 'GET' ? undefined : bodyFor(path), rawBody: relative.endsWith('/mass-payouts') && method === 'POST' ? 'payment_id,amount,currency,account_number,customer_id\nx,1.00,USD,a@example.com,c\n' : undefined, expect: 'refused' });
    // The other merchant's nested ids under my own project.
    if (/:(paymentId|callbackId|batchId)/.test(relative)) {
      const mine = substitute(A);
      probes.push({ method, path: mine, body: method === 'GET' ? undefined : bodyFor(mine), expect: 'refused' });
    }
    return probes;
  }
  if (/:(reportId|scheduleId|userId|keyId|notificationId)/.test(relative)) {
    probes.push({ method, path: substitute(B), body: method === 'PATCH' ? bodyFor(substitute(B)) : undefined, expect: 'refused' });
    return probes;
  }
  // Routes without ids in the path: filter by the other merchant's project where they take one; else they must show only mine.
  switch (`${method} ${relative}`) {
    case 'GET /payments':
    case 'GET /balances':
    case 'GET /stats/daily':
    case 'GET /exports/payments.csv':
    case 'GET /exports/operations.csv':
      probes.push({ method, path: `${relative}?project_id=${B}`, expect: 'refused' });
      probes.push({ method, path: `${relative}?project_id=${A},${B}`, expect: 'refused' });
      probes.push({ method, path: relative, expect: 'own-only' });
      return probes;
    case 'POST /reports':
      probes.push({ method, path: relative, body: { kind: 'payments', project_id: Number(B), from: '2020-01-01', to: '2100-01-01' }, expect: 'refused' });
      probes.push({ method, path: relative, body: { kind: 'payments', from: '2020-01-01', to: '2100-01-01' }, expect: 'own-only' });
      return probes;
    case 'POST /report-schedules':
      probes.push({ method, path: relative, body: { kind: 'payments', frequency: 'daily', project_id: Number(B) }, expect: 'refused' });
      return probes;
    case 'POST /session':
    case 'DELETE /session':
    case 'POST /session/password':
    case 'POST /users':
    case 'POST /data-api-keys':
      // Act on the signed-in user or their merchant only; nothing in them names another merchant (checked by "nothing of B changed").
      return [];
    case 'GET /session':
    case 'GET /projects':
    case 'GET /reports':
    case 'GET /report-schedules':
    case 'GET /users':
    case 'GET /data-api-keys':
    case 'GET /audit-log':
    case 'GET /compliance':
    case 'GET /notifications':
    case 'POST /notifications/read-all':
      probes.push({ method, path: relative, expect: 'own-only' });
      return probes;
    default:
      throw new Error(`no isolation probe for ${method} ${url}: add one`);
  }
}

/** Strings that would betray merchant B's data in an answer. */
function leaks(text: string): string[] {
  const markers = [
    other.paymentId,
    'b-payout-1',
    'admin@b.example',
    'viewer@b.example',
    'Merchant B',
    'B test',
    'B invoice',
    other.linkId,
    `"project_id":${projectB.id}`,
    `"id":${projectB.id},`,
    `,${projectB.id},`,
    `\n${projectB.id},`,
  ];
  return markers.filter((marker) => text.includes(marker));
}

test('every Dashboard API route refuses (403/404) another merchant’s ids, and lists show only my merchant’s data', async () => {
  const table = dashboardRouteTable.filter((route) => route.access !== 'public');
  assert.ok(table.length >= 40, `routes walked: ${table.length}`);
  const results: string[] = [];
  let probed = 0;
  for (const route of table) {
    for (const probe of probesFor(route.method, route.url)) {
      probed += 1;
      const response = await adminA.request(probe.method, probe.path, probe.rawBody === undefined ? probe.body : undefined, probe.rawBody === undefined ? {} : { rawBody: probe.rawBody });
      if (probe.expect === 'refused') {
        if (response.status !== 403 && response.status !== 404) results.push(`${probe.method} ${probe.path} answered ${response.status}: ${response.text.slice(0, 200)}`);
      } else {
        if (response.status !== 200) results.push(`${probe.method} ${probe.path} answered ${response.status}: ${response.text.slice(0, 200)}`);
        const found = leaks(response.text);
        if (found.length) results.push(`${probe.method} ${probe.path} shows merchant B's ${found.join(', ')}`);
      }
    }
  }
  assert.deepEqual(results, []);
  console.log(`isolation: dashboard_routes=${table.length} probes=${probed}`);
});

test('every Data API endpoint refuses another merchant’s projects and payments; a user cannot sign as another', async () => {
  const call = async (path: string, body: Record<string, unknown>, secret = dataKeyA.secret) => {
    const signed = signDataApiRequest({ user_id: dataKeyA.userId, timestamp: Math.floor(Date.now() / 1000), ...body }, secret);
    const response = await fetch(`${gh.baseUrl}/data/v1/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(signed) });
    return { status: response.status, text: await response.text() };
  };
  const refused = [
    ['operations/get', { project_id: Number(projectB.id) }],
    ['operations/get', { project_id: [Number(projectA.id), Number(projectB.id)] }],
    ['operations/payment', { project_id: Number(projectB.id), payment_id: other.paymentId }],
    ['operations/payment', { project_id: Number(projectA.id), payment_id: other.paymentId }],
    ['chargebacks/get', { project_id: Number(projectB.id) }],
    ['balances/get', { project_id: Number(projectB.id) }],
  ] as const;
  for (const [path, body] of refused) {
    const response = await call(path, body);
    assert.ok(response.status === 403 || response.status === 404, `${path} ${JSON.stringify(body)}: ${response.status} ${response.text}`);
  }
  for (const path of ['operations/get', 'chargebacks/get', 'balances/get', 'rates/get']) {
    const response = await call(path, {});
    assert.equal(response.status, 200, `${path}: ${response.text}`);
    assert.deepEqual(leaks(response.text), [], path);
  }
  // Signing as merchant B's user with my key fails.
  const impersonation = signDataApiRequest({ user_id: other.userId, timestamp: Math.floor(Date.now() / 1000), project_id: Number(projectB.id) }, dataKeyA.secret);
  const response = await fetch(`${gh.baseUrl}/data/v1/operations/get`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(impersonation) });
  assert.ok(response.status === 401, `impersonation: ${response.status}`);
});

test('nothing of merchant B changed', async () => {
  const pool = gh.platform.context.pool;
  const projectNow = await findProject(pool, projectB.id);
  assert.equal(projectNow?.secretKey, projectB.secretKey);
  assert.equal(projectNow?.callbackUrl, gh.receiver.url);
  const { rows: payment } = await pool.query(`SELECT status, refunded_minor FROM payments WHERE project_id = $1 AND payment_id = $2`, [String(projectB.id), other.paymentId]);
  assert.equal(payment[0].status, 'success');
  assert.equal(payment[0].refunded_minor, 0n);
  const { rows: operations } = await pool.query<{ count: string }>(`SELECT count(*)::text AS count FROM operations WHERE project_id = $1`, [String(projectB.id)]);
  assert.equal(operations[0].count, '1');
  const { rows: batch } = await pool.query(`SELECT status FROM mass_payout_batches WHERE id = $1`, [other.batchId]);
  assert.equal(batch[0].status, 'validated');
  const { rows: schedule } = await pool.query(`SELECT deleted_at FROM report_schedules WHERE id = $1`, [other.scheduleId]);
  assert.equal(schedule[0].deleted_at, null);
  const { rows: user } = await pool.query(`SELECT disabled FROM users WHERE id = $1`, [other.userId]);
  assert.equal(user[0].disabled, false);
  const { rows: key } = await pool.query(`SELECT revoked_at FROM data_api_keys WHERE id = $1`, [other.keyId]);
  assert.equal(key[0].revoked_at, null);
  const { rows: payments } = await pool.query<{ count: string }>(`SELECT count(*)::text AS count FROM payments WHERE project_id = $1`, [String(projectB.id)]);
  assert.equal(payments[0].count, '1', 'no payout was made in B’s project');
  const { rows: links } = await pool.query<{ id: string }>(`SELECT id FROM payment_links WHERE project_id = $1`, [String(projectB.id)]);
  assert.deepEqual(links.map((row) => row.id), [other.linkId], 'no link was made in B’s project');
  const { rows: reads } = await pool.query<{ count: string }>(
    `SELECT count(*)::text AS count FROM notification_reads r JOIN notifications n ON n.id = r.notification_id WHERE n.merchant_id = $1`,
    [String(other.merchantId)],
  );
  assert.equal(reads[0].count, '0', 'none of B’s notifications was marked read');
  assert.equal((await adminB.get(`/projects/${projectB.id}/payments/${other.paymentId}`)).status, 200, 'B still sees its own payment');
});

test('malformed ids, queries and bodies on every route answer 4xx, never 5xx', async () => {
  const garbageIds = ['abc', '0', '-1', '99999999999999999999', '%E2%80%AE', '1e3'];
  const queries = ['?project_id=abc', '?from=yesterday&to=2026-13-45', '?limit=-1', '?limit=100000', '?cursor=%25%25', '?status=nope&status=success', '?mode=live', '?q=' + 'x'.repeat(3000)];
  const bodies: (string | undefined)[] = ['{', '[]', '{"amount":"1e309","currency":1}', JSON.stringify({ deep: JSON.parse('['.repeat(50) + ']'.repeat(50)) }), 'null'];
  const failures: string[] = [];
  let requests = 0;
  // Signing out or changing the password would end the session the other probes need.
  const routes = dashboardRouteTable.filter((route) => !(route.url.endsWith('/session') && route.method === 'DELETE') && !route.url.endsWith('/session/password'));
  for (const route of routes) {
    const base = route.url.replace('/dashboard/api', '');
    for (const id of garbageIds) {
      const path = base.replace(/:[A-Za-z]+/g, id);
      const attempts = route.method === 'GET' || route.method === 'DELETE' ? queries.map((query) => ({ path: path + query, body: undefined })) : bodies.map((body) => ({ path, body }));
      for (const attempt of attempts.slice(0, id === 'abc' ? attempts.length : 1)) {
        requests += 1;
        const response = await adminA.request(route.method, attempt.path, undefined, attempt.body === undefined ? {} : { rawBody: attempt.body, contentType: 'application/json' });
        if (response.status >= 500) failures.push(`${route.method} ${attempt.path} ${attempt.body ?? ''}: ${response.status} ${response.text.slice(0, 200)}`);
      }
    }
  }
  assert.deepEqual(failures, []);
  assert.equal((await adminA.get('/session')).status, 200, 'the probes ran signed in');
  console.log(`malformed: requests=${requests} server_errors=${failures.length}`);
});
