import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { createMerchant, createMerchantProject } from '../src/accounts/merchants.ts';
import { verifyPassword } from '../src/accounts/passwords.ts';
import { createUser } from '../src/accounts/users.ts';
import { DashboardClient } from '../src/dashboard/client.ts';
import { withTransaction } from '../src/store/db.ts';
import { findProject, type Project } from '../src/store/projects.ts';
import { stopTestServer } from './support/database.ts';
import { actAtApprovalPage, authBody, saleBody, startTestPlatform, type TestPlatform } from './support/platform.ts';

/**
 * The Dashboard API end to end: sign-in, lockout, idle expiry, CSRF, roles,
 * the audit log, refunds/captures/payouts through the API (Gate's rules),
 * callback resend, secret rotation with overlap, users, Data API keys and the
 * operator console's endpoints. Merchant isolation, mass payouts, reports and
 * the ledger have their own files.
 */
const password = 'correct horse battery staple';
let gh: TestPlatform;
let project: Project;
let merchantId: bigint;
let admin: DashboardClient;
let viewer: DashboardClient;
let operator: DashboardClient;
let sequence = 0;
const nextPaymentId = (label: string) => `${label}-${Date.now()}-${++sequence}`;

before(async () => {
  gh = await startTestPlatform();
  const pool = gh.platform.context.pool;
  const merchant = await createMerchant(pool, 'Shop Ltd');
  merchantId = merchant.id;
  project = await createMerchantProject(pool, merchant.id, { name: 'Shop test', mode: 'test', callbackUrl: gh.receiver.url });
  await createUser(pool, { email: 'admin@shop.example', role: 'merchant_admin', merchantId: merchant.id, password });
  await createUser(pool, { email: 'viewer@shop.example', role: 'merchant_viewer', merchantId: merchant.id, password });
  await createUser(pool, { email: 'ops@gatehouse.example', role: 'operator', merchantId: null, password });
  admin = new DashboardClient(gh.baseUrl);
  viewer = new DashboardClient(gh.baseUrl);
  operator = new DashboardClient(gh.baseUrl);
  assert.equal((await admin.signIn('admin@shop.example', password)).status, 200);
  assert.equal((await viewer.signIn('viewer@shop.example', password)).status, 200);
  assert.equal((await operator.signIn('ops@gatehouse.example', password)).status, 200);
});
after(async () => {
  await gh?.stop();
  await stopTestServer();
});

async function approvedPayment(body: Record<string, any>, secret = project.secretKey) {
  const paymentId = body.general.payment_id as string;
  const path = body.return_url.return ? '/v2/payment/wallet/paypal/auth' : '/v2/payment/wallet/paypal/sale';
  const started = await gh.gate(path, body, { secret });
  assert.equal(started.status, 200, JSON.stringify(started.json));
  const intermediate = await gh.waitForCallback((callback) => callback.payment.id === paymentId && callback.operation.code === '9999');
  await actAtApprovalPage(intermediate.redirect_data.url, 'approve');
  return gh.waitForCallback((callback) => callback.payment.id === paymentId && callback.operation.code !== '9999');
}

async function auditActions(): Promise<string[]> {
  const { rows } = await gh.platform.context.pool.query<{ action: string; outcome: string }>('SELECT action, outcome FROM audit_log ORDER BY id');
  return rows.map((row) => `${row.action}:${row.outcome}`);
}

describe('sign-in and sessions', () => {
  test('sign-in sets an HttpOnly SameSite=Strict session cookie and answers the user, merchant and CSRF token', async () => {
    const client = new DashboardClient(gh.baseUrl);
    const response = await client.signIn('ADMIN@shop.example', password);
    assert.equal(response.status, 200, response.text);
    assert.equal(response.json.user.email, 'admin@shop.example');
    assert.equal(response.json.user.role, 'merchant_admin');
    assert.equal(response.json.merchant.name, 'Shop Ltd');
    assert.match(response.json.csrf_token, /^[A-Za-z0-9_-]{43}$/);
    const cookie = response.headers.getSetCookie().find((value) => value.startsWith('gatehouse_session='))!;
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.match(cookie, /Path=\/dashboard/);
    assert.doesNotMatch(cookie, /Secure/, 'plain http test server: no Secure flag');
    // Only the token's SHA-256 is stored.
    const token = client.cookie!.split('=')[1];
    const { rows } = await gh.platform.context.pool.query('SELECT encode(token_sha256, $1) AS digest FROM dashboard_sessions', ['hex']);
    assert.ok(rows.every((row) => row.digest !== Buffer.from(token).toString('hex')));
    assert.equal((await client.get('/session')).json.user.email, 'admin@shop.example');
    const signOut = await client.delete('/session');
    assert.equal(signOut.status, 200);
    const afterSignOut = await client.request('GET', '/session', undefined, {});
    assert.equal(afterSignOut.status, 401);
  });

  test('passwords are stored as scrypt hashes, never in clear', async () => {
    const { rows } = await gh.platform.context.pool.query<{ password_hash: string }>(`SELECT password_hash FROM users WHERE email = 'viewer@shop.example'`);
    assert.match(rows[0].password_hash, /^scrypt\$32768\$8\$1\$/);
    assert.ok(await verifyPassword(password, rows[0].password_hash));
    assert.ok(!(await verifyPassword(`${password}!`, rows[0].password_hash)));
  });

  test('a wrong password and an unknown email get the same 401 / 7002', async () => {
    const client = new DashboardClient(gh.baseUrl);
    const wrong = await client.signIn('viewer@shop.example', 'not the password at all');
    const unknown = await client.signIn('nobody@shop.example', password);
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    assert.equal(wrong.json.code, '7002');
    assert.equal(unknown.json.code, '7002');
    assert.equal(wrong.json.message, unknown.json.message);
    // The failure was not counted against the viewer for long: a success resets it.
    assert.equal((await client.signIn('viewer@shop.example', password)).status, 200);
  });

  test('ten failed sign-ins lock the account for 30 minutes, even for the right password', async () => {
    const pool = gh.platform.context.pool;
    await createUser(pool, { email: 'locked@shop.example', role: 'merchant_viewer', merchantId, password });
    const client = new DashboardClient(gh.baseUrl);
    for (let attempt = 1; attempt <= 9; attempt += 1) assert.equal((await client.signIn('locked@shop.example', `wrong password ${attempt}`)).status, 401);
    const tenth = await client.signIn('locked@shop.example', 'wrong password 10');
    assert.equal(tenth.status, 423);
    assert.equal(tenth.json.code, '7003');
    const right = await client.signIn('locked@shop.example', password);
    assert.equal(right.status, 423, 'locked even with the right password');
    const { rows } = await pool.query<{ locked_until: Date }>(`SELECT locked_until FROM users WHERE email = 'locked@shop.example'`);
    const lockMinutes = (rows[0].locked_until.getTime() - Date.now()) / 60_000;
    assert.ok(lockMinutes > 29 && lockMinutes <= 30, `locked for ${lockMinutes} minutes`);
    // 30 minutes later (injected clock) the right password works again.
    const realNow = gh.platform.context.now;
    gh.platform.context.now = () => new Date(Date.now() + 31 * 60_000);
    try {
      assert.equal((await client.signIn('locked@shop.example', password)).status, 200);
    } finally {
      gh.platform.context.now = realNow;
    }
    assert.ok((await auditActions()).includes('session.sign_in:failure'));
  });

  test('a session expires after 15 minutes idle (injected clock); activity keeps it alive', async () => {
    const client = new DashboardClient(gh.baseUrl);
    await client.signIn('viewer@shop.example', password);
    const realNow = gh.platform.context.now;
    const start = Date.now();
    let offsetMs = 0;
    gh.platform.context.now = () => new Date(start + offsetMs);
    try {
      offsetMs = 14 * 60_000;
      assert.equal((await client.get('/projects')).status, 200, 'active 14 minutes in');
      offsetMs = 28 * 60_000;
      assert.equal((await client.get('/projects')).status, 200, '14 minutes after the last request');
      offsetMs = 43 * 60_000 + 1_000;
      const expired = await client.get('/projects');
      assert.equal(expired.status, 401);
      assert.equal(expired.json.code, '7001');
      offsetMs = 43 * 60_000 + 2_000;
      assert.equal((await client.get('/projects')).status, 401, 'the expired session is gone');
    } finally {
      gh.platform.context.now = realNow;
    }
  });

  test('state-changing requests without the CSRF token (or with a wrong one) are refused with 403 / 7004', async () => {
    const paymentId = nextPaymentId('csrf');
    const body = { payment_id: paymentId, amount: 500, currency: 'USD', account_number: 'payee@example.com', customer_id: 'c1' };
    const none = await admin.post(`/projects/${project.id}/payouts`, body, { csrfToken: false });
    assert.equal(none.status, 403);
    assert.equal(none.json.code, '7004');
    const wrong = await admin.post(`/projects/${project.id}/payouts`, body, { csrfToken: viewer.csrfToken });
    assert.equal(wrong.status, 403, 'another session’s token is not this session’s');
    const signOut = await admin.request('DELETE', '/session', undefined, { csrfToken: false });
    assert.equal(signOut.status, 403);
    const { rows } = await gh.platform.context.pool.query('SELECT 1 FROM payments WHERE payment_id = $1', [paymentId]);
    assert.equal(rows.length, 0, 'nothing was sent');
    assert.equal((await admin.get('/session')).status, 200, 'GET needs no token');
    // A cross-site form can only send text/plain, urlencoded or multipart: refused before any handler, sign-in included.
    const formLogin = await new DashboardClient(gh.baseUrl).request('POST', '/session', undefined, {
      rawBody: JSON.stringify({ email: 'admin@shop.example', password }),
      contentType: 'text/plain',
    });
    assert.equal(formLogin.status, 415);
    assert.equal(formLogin.headers.getSetCookie().length, 0);
  });

  test('requests without a session get 401 / 7001', async () => {
    const anonymous = new DashboardClient(gh.baseUrl);
    for (const path of ['/session', '/projects', '/payments', '/balances', '/operator/merchants']) {
      const response = await anonymous.get(path);
      assert.equal(response.status, 401, path);
      assert.equal(response.json.code, '7001');
    }
    assert.equal((await anonymous.get('/no/such/endpoint')).status, 404);
  });

  test('changing my password ends my other sessions', async () => {
    const email = 'changer@shop.example';
    await createUser(gh.platform.context.pool, { email, role: 'merchant_viewer', merchantId, password });
    const first = new DashboardClient(gh.baseUrl);
    const second = new DashboardClient(gh.baseUrl);
    await first.signIn(email, password);
    await second.signIn(email, password);
    const tooShort = await first.post('/session/password', { current_password: password, new_password: 'short' });
    assert.equal(tooShort.status, 400);
    assert.equal(tooShort.json.code, '7007');
    const changed = await first.post('/session/password', { current_password: password, new_password: 'an even better passphrase' });
    assert.equal(changed.status, 200, changed.text);
    first.csrfToken = changed.json.csrf_token;
    assert.equal((await first.get('/session')).status, 200);
    assert.equal((await second.get('/session')).status, 401);
    assert.equal((await new DashboardClient(gh.baseUrl).signIn(email, 'an even better passphrase')).status, 200);
  });
});

describe('roles', () => {
  test('a viewer reads but cannot act; merchant users cannot reach the operator console; operators cannot reach merchant data', async () => {
    assert.equal((await viewer.get('/projects')).status, 200);
    assert.equal((await viewer.get('/payments')).status, 200);
    const checks: [DashboardClient, string, string, unknown][] = [
      [viewer, 'POST', `/projects/${project.id}/payouts`, { payment_id: 'v-1', amount: 500, currency: 'USD', account_number: 'a@example.com', customer_id: 'c' }],
      [viewer, 'POST', `/projects/${project.id}/payments/x/refund`, {}],
      [viewer, 'POST', `/projects/${project.id}/secret-key/rotate`, {}],
      [viewer, 'PATCH', `/projects/${project.id}/settings`, { hold_period_seconds: 3600 }],
      [viewer, 'GET', '/users', undefined],
      [viewer, 'POST', '/users', { email: 'x@shop.example', role: 'merchant_viewer', password }],
      [viewer, 'GET', '/audit-log', undefined],
      [viewer, 'POST', '/report-schedules', { kind: 'payments', frequency: 'daily' }],
      [admin, 'GET', '/operator/merchants', undefined],
      [admin, 'POST', '/operator/merchants', { name: 'Mine now' }],
      [admin, 'PUT', '/operator/fx-rates/USD/EUR', { rate: '0.5' }],
      [operator, 'GET', '/projects', undefined],
      [operator, 'GET', '/payments', undefined],
      [operator, 'POST', `/projects/${project.id}/payouts`, { payment_id: 'o-1', amount: 500, currency: 'USD', account_number: 'a@example.com', customer_id: 'c' }],
    ];
    for (const [client, method, path, body] of checks) {
      const response = await client.request(method, path, body);
      assert.equal(response.status, 403, `${method} ${path}: ${response.text}`);
      assert.equal(response.json.code, '7005');
    }
  });
});

describe('merchant actions go through Gate’s rules', () => {
  test('refund through the dashboard: partial refund accepted, over-refund refused with 3283, audit written', async () => {
    const paymentId = nextPaymentId('dash-refund');
    await approvedPayment(saleBody(project.id, paymentId, 1500));
    const refund = await admin.post(`/projects/${project.id}/payments/${encodeURIComponent(paymentId)}/refund`, { amount: 500, currency: 'USD', description: 'damaged' });
    assert.equal(refund.status, 200, refund.text);
    assert.equal(refund.json.status, 'success');
    assert.equal(refund.json.payment_id, paymentId);
    const callback = await gh.waitForCallback((body) => body.payment.id === paymentId && body.operation.type === 'refund');
    assert.equal(callback.operation.status, 'success');
    assert.equal(callback.payment.status, 'partially refunded');
    const over = await admin.post(`/projects/${project.id}/payments/${encodeURIComponent(paymentId)}/refund`, { amount: 1001, currency: 'USD' });
    assert.equal(over.status, 400);
    assert.equal(over.json.code, '3283');
    const detail = await viewer.get(`/projects/${project.id}/payments/${encodeURIComponent(paymentId)}`);
    assert.equal(detail.status, 200);
    assert.equal(detail.json.payment.status, 'partially refunded');
    assert.equal(detail.json.payment.refunded_minor, '500');
    assert.equal(detail.json.payment.available_for_refund_minor, '1000');
    assert.deepEqual(detail.json.operations.map((operation: any) => `${operation.type}:${operation.status}`), ['sale:success', 'refund:success']);
    assert.ok(detail.json.callbacks.length >= 3, 'intermediate, sale final, refund final');
    assert.ok(detail.json.callbacks.every((entry: any) => Array.isArray(entry.delivery_attempts)));
    assert.ok(detail.json.callbacks.some((entry: any) => entry.delivery_attempts.some((attempt: any) => attempt.http_status === 200)));
    assert.deepEqual(
      detail.json.ledger_entries.map((entry: any) => `${entry.operation_type}:${entry.account}:${entry.side}:${entry.amount_minor}`),
      ['sale:customer_funds:debit:1500', 'sale:merchant_balance:credit:1500', 'refund:merchant_balance:debit:500', 'refund:customer_funds:credit:500'],
    );
    const actions = await auditActions();
    assert.ok(actions.includes('payment.refund:success'));
    assert.ok(actions.includes('payment.refund:failure'));
  });

  test('capture and cancel through the dashboard', async () => {
    const captured = nextPaymentId('dash-capture');
    await approvedPayment(authBody(project.id, captured, 2500));
    const capture = await admin.post(`/projects/${project.id}/payments/${captured}/capture`, {});
    assert.equal(capture.status, 200, capture.text);
    const captureCallback = await gh.waitForCallback((body) => body.payment.id === captured && body.operation.type === 'capture');
    assert.equal(captureCallback.payment.status, 'success');
    const again = await admin.post(`/projects/${project.id}/payments/${captured}/capture`, {});
    assert.equal(again.status, 400);
    assert.equal(again.json.code, '3060');

    const cancelled = nextPaymentId('dash-cancel');
    await approvedPayment(authBody(project.id, cancelled, 2500));
    assert.equal((await admin.post(`/projects/${project.id}/payments/${cancelled}/cancel`, {})).status, 200);
    const cancelCallback = await gh.waitForCallback((body) => body.payment.id === cancelled && body.operation.type === 'cancel');
    assert.equal(cancelCallback.payment.status, 'canceled');
    assert.equal((await admin.post(`/projects/${project.id}/payments/no-such-payment/capture`, {})).status, 404);
  });

  test('single payout from the dashboard', async () => {
    const paymentId = nextPaymentId('dash-payout');
    const payout = await admin.post(`/projects/${project.id}/payouts`, {
      payment_id: paymentId,
      amount: 2000,
      currency: 'EUR',
      account_number: 'payee@example.com',
      customer_id: 'customer-7',
      description: 'prize',
    });
    assert.equal(payout.status, 200, payout.text);
    const callback = await gh.waitForCallback((body) => body.payment.id === paymentId && body.operation.type === 'payout' && body.operation.code !== '9999');
    assert.equal(callback.payment.status, 'success');
    assert.equal(callback.account.number, 'payee@example.com');
    const duplicate = await admin.post(`/projects/${project.id}/payouts`, {
      payment_id: paymentId,
      amount: 2000,
      currency: 'EUR',
      account_number: 'payee@example.com',
      customer_id: 'customer-7',
    });
    assert.equal(duplicate.json.code, '3041');
    const badCurrency = await admin.post(`/projects/${project.id}/payouts`, {
      payment_id: nextPaymentId('dash-payout'),
      amount: 2000,
      currency: 'RUB',
      account_number: 'payee@example.com',
      customer_id: 'customer-7',
    });
    assert.equal(badCurrency.json.code, '3025');
  });

  test('payment links: an admin creates one with Gate’s rules, the list shows its status, and its URL opens the Payment Page', async () => {
    const path = `/projects/${project.id}/payment-links`;
    const created = await admin.post(path, { amount: 2500, currency: 'USD', description: 'Invoice 2041', single_use: true });
    assert.equal(created.status, 200, created.text);
    const link = created.json.link;
    assert.match(link.id, /^[a-z2-7]{20}$/);
    assert.equal(link.url, `${gh.baseUrl}/pay/${link.id}`);
    assert.equal(link.status, 'active');
    assert.equal(link.amount, 2500);
    assert.equal(link.currency, 'USD');
    assert.equal(link.single_use, true);
    assert.equal(link.expires_at, null);
    assert.equal(link.attempts, 0);
    const page = await fetch(link.url);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await page.text(), /Invoice 2041/);

    // The Gate route's checks, with its codes.
    const refusals: [Record<string, unknown>, string][] = [
      [{ amount: 100, currency: 'RUB', description: 'x', single_use: true }, '3025'],
      [{ amount: 10_000_000_00, currency: 'USD', description: 'x', single_use: true }, '3027'],
      [{ amount: 100, currency: 'USD', description: 'x', single_use: true, expires_at: '2020-01-01T00:00:00Z' }, '2005'],
      [{ amount: 100, currency: 'USD', description: 'x', single_use: true, expires_at: 'tomorrow' }, '2005'],
      [{ amount: 0, currency: 'USD', description: 'x', single_use: true }, '2005'],
      [{ amount: 100, currency: 'usd', description: 'x', single_use: true }, '2005'],
      [{ amount: 100, currency: 'USD', description: 'x'.repeat(256), single_use: true }, '2005'],
      [{ amount: 100, currency: 'USD', description: 'x' }, '2004'],
      [{ amount: 100, currency: 'USD', description: 'x', single_use: true, extra: 1 }, '2005'],
    ];
    for (const [body, code] of refusals) {
      const refused = await admin.post(path, body);
      assert.equal(refused.status, 400, `${JSON.stringify(body)}: ${refused.text}`);
      assert.equal(refused.json.code, code, JSON.stringify(body));
    }
    const denied = await viewer.post(path, { amount: 100, currency: 'USD', description: 'x', single_use: true });
    assert.equal(denied.status, 403);

    // A reusable link that expires in a moment: listed as expired afterwards, and its page says so.
    const soon = new Date(Date.now() + 1_500).toISOString();
    const expiring = await admin.post(path, { amount: 990, currency: 'EUR', description: 'Flash sale', single_use: false, expires_at: soon });
    assert.equal(expiring.status, 200, expiring.text);
    assert.equal(expiring.json.link.single_use, false);
    assert.equal(expiring.json.link.expires_at, new Date(soon).toISOString());
    await sleep(1_600);
    const list = await viewer.get(path);
    assert.equal(list.status, 200, list.text);
    const byId = new Map<string, any>(list.json.links.map((entry: any) => [entry.id, entry]));
    assert.equal(byId.get(link.id)?.status, 'active');
    assert.equal(byId.get(link.id)?.url, link.url);
    assert.equal(byId.get(link.id)?.description, 'Invoice 2041');
    assert.equal(byId.get(expiring.json.link.id)?.status, 'expired');
    assert.equal(list.json.links[0].id, expiring.json.link.id, 'newest first');
    assert.equal((await fetch(expiring.json.link.url)).status, 410);
    const actions = await auditActions();
    assert.ok(actions.includes('payment_link.create:success'));
    assert.ok(actions.includes('payment_link.create:failure'));
  });

  test('callback resend: a failed delivery is sent again and logged as a new attempt', async () => {
    const paymentId = nextPaymentId('resend');
    await approvedPayment(saleBody(project.id, paymentId));
    const detail = await admin.get(`/projects/${project.id}/payments/${paymentId}`);
    const final = detail.json.callbacks.find((entry: any) => entry.kind === 'final');
    await gh.waitForCallback((body) => body.payment.id === paymentId && body.operation.status === 'success');
    // Mark it failed as after 11 days of retries, then resend.
    await gh.platform.context.pool.query(`UPDATE callbacks SET status = 'failed' WHERE id = $1`, [final.id]);
    const before = gh.callbacksFor(paymentId).length;
    const resend = await admin.post(`/projects/${project.id}/callbacks/${final.id}/resend`, {});
    assert.equal(resend.status, 200, resend.text);
    const deadline = Date.now() + 10_000;
    while (gh.callbacksFor(paymentId).length === before && Date.now() < deadline) await sleep(50);
    assert.equal(gh.callbacksFor(paymentId).length, before + 1, 'delivered again');
    let again: any;
    for (let tries = 0; tries < 50; tries += 1) {
      again = (await admin.get(`/projects/${project.id}/payments/${paymentId}`)).json.callbacks.find((entry: any) => entry.id === final.id);
      if (again.status === 'delivered' && again.delivery_attempts.length >= 2) break;
      await sleep(50);
    }
    assert.equal(again.status, 'delivered');
    assert.ok(again.delivery_attempts.length >= 2);
    assert.equal((await viewer.post(`/projects/${project.id}/callbacks/${final.id}/resend`, {})).status, 403);
    assert.ok((await auditActions()).includes('callback.resend:success'));
  });
});

describe('project settings', () => {
  test('secret key rotation with an overlap window: both keys verify during it, only the new one after', async () => {
    const pool = gh.platform.context.pool;
    const rotatable = await createMerchantProject(pool, merchantId, { name: 'Rotating', mode: 'test', callbackUrl: gh.receiver.url });
    const oldKey = rotatable.secretKey;
    const rotated = await admin.post(`/projects/${rotatable.id}/secret-key/rotate`, { overlap_seconds: 3600 });
    assert.equal(rotated.status, 200, rotated.text);
    const newKey = rotated.json.secret_key as string;
    assert.notEqual(newKey, oldKey);
    const overlapEnd = new Date(rotated.json.previous_secret_key_valid_until).getTime();
    assert.ok(Math.abs(overlapEnd - Date.now() - 3_600_000) < 60_000);
    const status = (key: string) => gh.gate('/v2/payment/status', { general: { project_id: Number(rotatable.id), payment_id: 'none' } }, { secret: key });
    assert.equal((await status(newKey)).json.code, '3061', 'new key verifies (payment not found)');
    assert.equal((await status(oldKey)).json.code, '3061', 'old key still verifies during the overlap');
    assert.equal((await status('not-a-key-of-this-project')).json.code, '3261');
    const realNow = gh.platform.context.now;
    gh.platform.context.now = () => new Date(Date.now() + 3_601_000);
    try {
      assert.equal((await status(oldKey)).json.code, '3261', 'old key refused after the overlap');
      assert.equal((await status(newKey)).json.code, '3061');
    } finally {
      gh.platform.context.now = realNow;
    }
    // Callbacks are signed with the new key.
    assert.equal((await findProject(pool, rotatable.id))?.secretKey, newKey);
    assert.ok((await auditActions()).includes('project.secret_key_rotate:success'));
    const list = await admin.get('/projects');
    assert.ok(!list.text.includes(newKey), 'the project list never shows a secret key');
  });

  test('callback URL and hold policy settings', async () => {
    const changed = await admin.patch(`/projects/${project.id}/settings`, { hold_expiry_action: 'capture', hold_period_seconds: 86_400 });
    assert.equal(changed.status, 200, changed.text);
    assert.equal(changed.json.project.hold_expiry_action, 'capture');
    assert.equal(changed.json.project.hold_period_seconds, 86_400);
    const invalid = await admin.patch(`/projects/${project.id}/settings`, { hold_period_seconds: 10 });
    assert.equal(invalid.status, 400);
    const url = await admin.patch(`/projects/${project.id}/settings`, { callback_url: 'ftp://nope' });
    assert.equal(url.status, 400);
    await admin.patch(`/projects/${project.id}/settings`, { hold_expiry_action: 'cancel', hold_period_seconds: 259_200, callback_url: gh.receiver.url });
    const { rows } = await gh.platform.context.pool.query(`SELECT details FROM audit_log WHERE action = 'project.settings' ORDER BY id DESC LIMIT 1`);
    assert.equal(rows[0].details.callback_url, gh.receiver.url);
  });
});

describe('users, Data API keys, audit log', () => {
  test('an admin creates users (password rule, unique email) and disables them, which ends their sessions', async () => {
    const short = await admin.post('/users', { email: 'new@shop.example', role: 'merchant_viewer', password: 'too-short' });
    assert.equal(short.json.code, '7007');
    const created = await admin.post('/users', { email: 'new@shop.example', role: 'merchant_viewer', password });
    assert.equal(created.status, 200, created.text);
    assert.equal((await admin.post('/users', { email: 'NEW@shop.example', role: 'merchant_viewer', password })).json.code, '7008');
    const newcomer = new DashboardClient(gh.baseUrl);
    assert.equal((await newcomer.signIn('new@shop.example', password)).status, 200);
    const disabled = await admin.patch(`/users/${created.json.user.id}`, { disabled: true });
    assert.equal(disabled.status, 200);
    assert.equal((await newcomer.get('/projects')).status, 401);
    assert.equal((await newcomer.signIn('new@shop.example', password)).status, 401);
    const self = await admin.patch(`/users/${(await admin.get('/session')).json.user.id}`, { role: 'merchant_viewer' });
    assert.equal(self.status, 403, 'an admin cannot demote themselves');
    const users = await admin.get('/users');
    assert.ok(users.json.users.every((user: any) => user.merchant_id === Number(merchantId)));
  });

  test('Data API keys: created by the user, shown once, listed without the secret, revocable', async () => {
    const created = await viewer.post('/data-api-keys', { label: 'reporting' });
    assert.equal(created.status, 200, created.text);
    assert.match(created.json.secret_key, /^[A-Za-z0-9_-]{43}$/);
    const list = await viewer.get('/data-api-keys');
    assert.equal(list.json.keys.length, 1);
    assert.ok(!list.text.includes(created.json.secret_key));
    assert.equal((await viewer.delete(`/data-api-keys/${created.json.key.id}`)).status, 200);
    assert.equal((await viewer.delete(`/data-api-keys/${created.json.key.id}`)).status, 404);
  });

  test('the audit log is append-only: UPDATE, DELETE and TRUNCATE are refused by the database', async () => {
    const pool = gh.platform.context.pool;
    const { rows } = await pool.query<{ count: string }>('SELECT count(*)::text AS count FROM audit_log');
    assert.ok(Number(rows[0].count) > 10);
    await assert.rejects(pool.query(`UPDATE audit_log SET action = 'nothing happened'`), /append-only/);
    await assert.rejects(pool.query('DELETE FROM audit_log'), /append-only/);
    await assert.rejects(pool.query('TRUNCATE audit_log'), /append-only/);
    const after = await pool.query<{ count: string }>('SELECT count(*)::text AS count FROM audit_log');
    assert.equal(after.rows[0].count, rows[0].count);
    const page = await admin.get('/audit-log?limit=5');
    assert.equal(page.status, 200);
    assert.equal(page.json.entries.length, 5);
    assert.ok(page.json.next_cursor);
    const next = await admin.get(`/audit-log?limit=5&cursor=${page.json.next_cursor}`);
    assert.ok(Number(next.json.entries[0].id) < Number(page.json.entries[4].id));
    assert.ok(page.json.entries.every((entry: any) => entry.merchant_id === Number(merchantId)));
  });

  test('a successful action and its audit entry are written by one transaction', async () => {
    const pool = gh.platform.context.pool;
    // xmin is the id of the transaction that wrote a row version: equal ids mean one commit wrote both.
    const auditXmin = async (action: string) =>
      (await pool.query<{ xmin: string }>(`SELECT xmin::text AS xmin FROM audit_log WHERE action = $1 AND outcome = 'success' ORDER BY id DESC LIMIT 1`, [action]))
        .rows[0].xmin;
    assert.equal((await operator.put('/operator/fx-rates/USD/GBP', { rate: '0.79' })).status, 200);
    const rate = await pool.query(`SELECT xmin::text AS xmin FROM fx_rates WHERE base = 'USD' AND quote = 'GBP'`);
    assert.equal(rate.rows[0].xmin, await auditXmin('fx_rate.set'));

    assert.equal((await operator.put(`/operator/projects/${project.id}/fees`, { fees: [{ operation_type: 'refund', percent_basis_points: 0, fixed_minor: 25 }] })).status, 200);
    const fee = await pool.query(`SELECT xmin::text AS xmin FROM project_fees WHERE project_id = $1`, [String(project.id)]);
    assert.equal(fee.rows[0].xmin, await auditXmin('project.fees'));
    await operator.put(`/operator/projects/${project.id}/fees`, { fees: [] });

    const user = await admin.post('/users', { email: 'audited@shop.example', role: 'merchant_viewer', password });
    const userRow = await pool.query(`SELECT xmin::text AS xmin FROM users WHERE id = $1`, [String(user.json.user.id)]);
    assert.equal(userRow.rows[0].xmin, await auditXmin('user.create'));

    const upload = await admin.post(`/projects/${project.id}/mass-payouts`, undefined, {
      rawBody: `payment_id,amount,currency,account_number,customer_id\n${nextPaymentId('audited-batch')},1.00,USD,payee@example.com,c1\n`,
    });
    const batch = await pool.query(`SELECT xmin::text AS xmin FROM mass_payout_batches WHERE id = $1`, [upload.json.batch.id]);
    assert.equal(batch.rows[0].xmin, await auditXmin('mass_payout.upload'));
    assert.notEqual(batch.rows[0].xmin, userRow.rows[0].xmin, 'separate actions, separate transactions');
  });

  test('when its audit entry cannot be written, the action is rolled back: 500, nothing written, the failure audited', async () => {
    const pool = gh.platform.context.pool;
    // The audit store fails for successful payouts only (a database fault injected for this test).
    await pool.query(`CREATE FUNCTION test_refuse_payout_audit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.action = 'payout.create' AND NEW.outcome = 'success' THEN RAISE EXCEPTION 'audit store unavailable'; END IF;
        RETURN NEW;
      END $$`);
    await pool.query('CREATE TRIGGER test_refuse_payout_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION test_refuse_payout_audit()');
    const paymentId = nextPaymentId('unaudited-payout');
    const form = { payment_id: paymentId, amount: 900, currency: 'USD', account_number: 'payee@example.com', customer_id: 'customer-9' };
    try {
      const refused = await admin.post(`/projects/${project.id}/payouts`, form);
      assert.equal(refused.status, 500, refused.text);
      const written = await pool.query('SELECT count(*)::int AS n FROM payments WHERE project_id = $1 AND payment_id = $2', [String(project.id), paymentId]);
      assert.equal(written.rows[0].n, 0, 'no payout without its audit entry');
      const failure = await pool.query(`SELECT details ->> 'code' AS code FROM audit_log WHERE action = 'payout.create' AND target_id = $1 AND outcome = 'failure'`, [
        `${project.id}/${paymentId}`,
      ]);
      assert.deepEqual(failure.rows, [{ code: '1000' }]);
    } finally {
      await pool.query('DROP TRIGGER test_refuse_payout_audit ON audit_log');
      await pool.query('DROP FUNCTION test_refuse_payout_audit()');
    }
    // Nothing was left behind: the same payment_id goes through now (no 3041), with its entry.
    const accepted = await admin.post(`/projects/${project.id}/payouts`, form);
    assert.equal(accepted.status, 200, accepted.text);
    const success = await pool.query(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'payout.create' AND target_id = $1 AND outcome = 'success'`, [
      `${project.id}/${paymentId}`,
    ]);
    assert.equal(success.rows[0].n, 1);
  });

  test('withTransaction given a transaction joins it: a nested failure undoes only its part, a nested success commits with the outer', async () => {
    const pool = gh.platform.context.pool;
    await pool.query('CREATE TABLE test_nesting (label text PRIMARY KEY)');
    const labels = async () => (await pool.query<{ label: string }>('SELECT label FROM test_nesting ORDER BY label')).rows.map((row) => row.label);
    await withTransaction(pool, async (tx) => {
      await tx.query(`INSERT INTO test_nesting VALUES ('outer')`);
      await withTransaction(tx, (nested) => nested.query(`INSERT INTO test_nesting VALUES ('nested')`));
      await assert.rejects(withTransaction(tx, (nested) => nested.query(`INSERT INTO test_nesting VALUES ('outer')`)), /duplicate key/);
      assert.deepEqual((await tx.query('SELECT count(*)::int AS n FROM test_nesting')).rows[0].n, 2, 'the outer transaction is still usable');
      assert.deepEqual(await labels(), [], 'nothing visible before the outer commit');
    });
    assert.deepEqual(await labels(), ['nested', 'outer']);
    await assert.rejects(
      withTransaction(pool, async (tx) => {
        await withTransaction(tx, (nested) => nested.query(`INSERT INTO test_nesting VALUES ('rolled back')`));
        throw new Error('outer fails');
      }),
      /outer fails/,
    );
    assert.deepEqual(await labels(), ['nested', 'outer'], 'a nested success rolls back with its outer transaction');
    await pool.query('DROP TABLE test_nesting');
  });

  test('CLI: user create reads the password from stdin', async () => {
    const run = promisify(execFile);
    const child = run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'user', 'create', '--email', 'cli@shop.example', '--role', 'merchant_admin', '--merchant', String(merchantId)], {
      env: { ...process.env, DATABASE_URL: gh.database.connectionString },
    });
    child.child.stdin!.end(`${password}\n`);
    const { stdout } = await child;
    const created = JSON.parse(stdout);
    assert.equal(created.email, 'cli@shop.example');
    assert.equal(created.role, 'merchant_admin');
    assert.equal(created.merchant_id, Number(merchantId));
    assert.equal((await new DashboardClient(gh.baseUrl).signIn('cli@shop.example', password)).status, 200);
    const short = run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'user', 'create', '--email', 'cli2@shop.example', '--role', 'operator'], {
      env: { ...process.env, DATABASE_URL: gh.database.connectionString },
    });
    short.child.stdin!.end('short\n');
    await assert.rejects(short, /at least 12 characters/);
  });
});

describe('operator console', () => {
  test('merchants, their projects (test and production, extra test projects) and first users', async () => {
    const merchant = await operator.post('/operator/merchants', { name: 'Travel Co' });
    assert.equal(merchant.status, 200, merchant.text);
    const id = merchant.json.merchant.id;
    const production = await operator.post(`/operator/merchants/${id}/projects`, { name: 'Travel live', mode: 'production', callback_url: 'https://travel.example/cb' });
    assert.equal(production.status, 200, production.text);
    assert.match(production.json.secret_key, /^[A-Za-z0-9_-]{43}$/);
    assert.equal((await operator.post(`/operator/merchants/${id}/projects`, { name: 'Travel test', mode: 'test' })).status, 200);
    assert.equal((await operator.post(`/operator/merchants/${id}/projects`, { name: 'Travel test 2', mode: 'test' })).status, 200);
    const privateUrl = await operator.post(`/operator/merchants/${id}/projects`, { name: 'SSRF', mode: 'production', callback_url: 'http://127.0.0.1:5432/' });
    assert.equal(privateUrl.status, 400, 'production callback URLs may not point into our network');
    const user = await operator.post(`/operator/merchants/${id}/users`, { email: 'boss@travel.example', role: 'merchant_admin', password });
    assert.equal(user.status, 200, user.text);
    const detail = await operator.get(`/operator/merchants/${id}`);
    assert.deepEqual(detail.json.projects.map((entry: any) => entry.mode).sort(), ['production', 'test', 'test']);
    assert.equal(detail.json.users.length, 1);
    const boss = new DashboardClient(gh.baseUrl);
    await boss.signIn('boss@travel.example', password);
    assert.equal((await boss.get('/projects')).json.projects.length, 3);
    assert.ok((await operator.get('/operator/projects')).json.projects.length >= 6);
  });

  test('PayPal onboarding moves through its steps in order, needs the merchant id and permissions, and is revocable', async () => {
    const merchant = (await operator.post('/operator/merchants', { name: 'Onboarding Co' })).json.merchant;
    const live = (await operator.post(`/operator/merchants/${merchant.id}/projects`, { name: 'Live', mode: 'production' })).json.project;
    const move = (body: Record<string, unknown>) => operator.post(`/operator/projects/${live.id}/paypal-onboarding`, body);
    assert.equal((await move({ state: 'link_sent' })).json.code, '7013', 'must be requested first');
    assert.equal((await move({ state: 'requested' })).status, 200);
    assert.equal((await move({ state: 'link_sent', onboarding_link: 'https://www.paypal.com/bizsignup/partner/xyz' })).status, 200);
    assert.equal((await move({ state: 'rights_granted' })).json.code, '2004', 'PayPal merchant id and permissions are required');
    assert.equal((await move({ state: 'rights_granted', paypal_merchant_id: 'MERCHANT123', permissions: ['purchases_refunds', 'payouts'] })).status, 200);
    assert.equal((await move({ state: 'ready' })).json.code, '7013', 'set_up comes first');
    assert.equal((await move({ state: 'set_up' })).status, 200);
    const ready = await move({ state: 'ready' });
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.json.paypal_onboarding.permissions, ['purchases_refunds', 'payouts']);
    assert.equal(ready.json.paypal_onboarding.paypal_merchant_id, 'MERCHANT123');
    assert.equal((await findProject(gh.platform.context.pool, BigInt(live.id)))?.paypalEnabled, true);
    const revoked = await move({ state: 'revoked' });
    assert.equal(revoked.json.paypal_onboarding.state, 'revoked');
    assert.equal((await findProject(gh.platform.context.pool, BigInt(live.id)))?.paypalEnabled, false, 'a revoked production project takes no PayPal payments');
    const again = await move({ state: 'requested' });
    assert.equal(again.json.paypal_onboarding.paypal_merchant_id, null);
  });

  test('PayPal rights hold for Dashboard actions: a production project granting only purchases and refunds gets no payouts (3029, nothing written)', async () => {
    const merchant = (await operator.post('/operator/merchants', { name: 'Rights Co' })).json.merchant;
    const live = (await operator.post(`/operator/merchants/${merchant.id}/projects`, { name: 'Rights live', mode: 'production' })).json.project;
    for (const state of ['requested', 'link_sent', 'rights_granted', 'set_up', 'ready']) {
      const body = { state, ...(state === 'rights_granted' ? { paypal_merchant_id: 'RIGHTS1', permissions: ['purchases_refunds'] } : {}) };
      assert.equal((await operator.post(`/operator/projects/${live.id}/paypal-onboarding`, body)).status, 200);
    }
    // With credentials, as Gate needs them: what is refused below is the missing right.
    const credentials = await operator.put(`/operator/projects/${live.id}/paypal-credentials`, { client_id: 'AYrights', client_secret: 'rights-secret-value' });
    assert.equal(credentials.status, 200, credentials.text);
    await operator.post(`/operator/merchants/${merchant.id}/users`, { email: 'boss@rights.example', role: 'merchant_admin', password });
    const boss = new DashboardClient(gh.baseUrl);
    assert.equal((await boss.signIn('boss@rights.example', password)).status, 200);
    const paymentId = nextPaymentId('no-payout-right');
    const payout = await boss.post(`/projects/${live.id}/payouts`, { payment_id: paymentId, amount: 500, currency: 'USD', account_number: 'payee@example.com', customer_id: 'c1' });
    assert.equal(payout.status, 400, payout.text);
    assert.equal(payout.json.code, '3029');
    assert.match(payout.json.message, /does not grant payouts/);
    const file = await boss.post(`/projects/${live.id}/mass-payouts`, undefined, {
      rawBody: `payment_id,amount,currency,account_number,customer_id\n${paymentId},5.00,USD,payee@example.com,c1\n`,
    });
    assert.equal(file.json.code, '3029', 'a payout file is refused at upload, not row by row');
    const pool = gh.platform.context.pool;
    const written = await pool.query(
      `SELECT (SELECT count(*)::int FROM payments WHERE project_id = $1) AS payments, (SELECT count(*)::int FROM mass_payout_batches WHERE project_id = $1) AS batches`,
      [String(live.id)],
    );
    assert.deepEqual(written.rows[0], { payments: 0, batches: 0 });
    const audit = await pool.query(`SELECT details ->> 'code' AS code FROM audit_log WHERE action = 'payout.create' AND target_id = $1`, [`${live.id}/${paymentId}`]);
    assert.deepEqual(audit.rows, [{ code: '3029' }], 'the refusal is audited');
  });

  test('fees: GET answers what PUT stored (every rule, replaced as a whole), operators only', async () => {
    const path = `/operator/projects/${project.id}/fees`;
    const rules = [
      { operation_type: 'sale', percent_basis_points: 290, fixed_minor: 30 },
      { operation_type: 'payout', percent_basis_points: 0, fixed_minor: 125 },
      { operation_type: 'refund', percent_basis_points: 10_000, fixed_minor: 0 },
    ];
    const saved = await operator.put(path, { fees: rules });
    assert.equal(saved.status, 200, saved.text);
    const expected = {
      project_id: Number(project.id),
      fees: [
        { operation_type: 'payout', percent_basis_points: 0, fixed_minor: '125' },
        { operation_type: 'refund', percent_basis_points: 10_000, fixed_minor: '0' },
        { operation_type: 'sale', percent_basis_points: 290, fixed_minor: '30' },
      ],
    };
    assert.deepEqual(saved.json, expected);
    assert.deepEqual((await operator.get(path)).json, expected);
    assert.deepEqual((await admin.get(`/projects/${project.id}`)).json.fees, expected.fees, 'the merchant sees the same rules');

    const replaced = await operator.put(path, { fees: [{ operation_type: 'capture', percent_basis_points: 150, fixed_minor: 0 }] });
    assert.deepEqual(replaced.json.fees, [{ operation_type: 'capture', percent_basis_points: 150, fixed_minor: '0' }]);
    assert.deepEqual((await operator.get(path)).json.fees, replaced.json.fees);

    const duplicate = await operator.put(path, { fees: [rules[0], { ...rules[0], fixed_minor: 31 }] });
    assert.equal(duplicate.json.code, '2005');
    assert.equal((await operator.put(path, { fees: [{ ...rules[0], percent_basis_points: 10_001 }] })).status, 400);
    assert.deepEqual((await operator.get(path)).json.fees, replaced.json.fees, 'refused saves change nothing');
    assert.equal((await admin.get(path)).status, 403);
    assert.equal((await operator.get('/operator/projects/999999/fees')).status, 404);
    await operator.put(path, { fees: [] });
  });

  test('PCI DSS documents: ASV scan for all, SAQ below 6,000,000 operations a year; ok / expiring / expired / missing', async () => {
    const merchant = (await operator.post('/operator/merchants', { name: 'Compliance Co' })).json.merchant;
    const summary = await operator.get(`/operator/merchants/${merchant.id}/pci-documents`);
    assert.equal(summary.json.status, 'missing');
    assert.deepEqual(summary.json.required.map((entry: any) => entry.kind), ['asv_scan', 'saq']);
    const today = new Date();
    const day = (offset: number) => new Date(today.getTime() + offset * 86_400_000).toISOString().slice(0, 10);
    const asv = await operator.post(`/operator/merchants/${merchant.id}/pci-documents`, { kind: 'asv_scan', issued_on: day(-80), reference: 'scan Q1' });
    assert.equal(asv.status, 200, asv.text);
    const asvEntry = asv.json.required.find((entry: any) => entry.kind === 'asv_scan');
    assert.equal(asvEntry.status, 'expiring', 'a quarterly scan from 80 days ago ends within 30 days');
    await operator.post(`/operator/merchants/${merchant.id}/pci-documents`, { kind: 'saq', issued_on: day(-400), valid_until: day(-35) });
    assert.equal((await operator.get(`/operator/merchants/${merchant.id}/pci-documents`)).json.status, 'expired');
    await operator.post(`/operator/merchants/${merchant.id}/pci-documents`, { kind: 'saq', issued_on: day(-1) });
    await operator.post(`/operator/merchants/${merchant.id}/pci-documents`, { kind: 'asv_scan', issued_on: day(0) });
    const ok = await operator.get(`/operator/merchants/${merchant.id}/pci-documents`);
    assert.equal(ok.json.status, 'ok');
    // The merchant sees its own status.
    await operator.post(`/operator/merchants/${merchant.id}/users`, { email: 'pci@compliance.example', role: 'merchant_viewer', password });
    const own = new DashboardClient(gh.baseUrl);
    await own.signIn('pci@compliance.example', password);
    assert.equal((await own.get('/compliance')).json.status, 'ok');
    const bad = await operator.post(`/operator/merchants/${merchant.id}/pci-documents`, { kind: 'aoc', issued_on: '2026-02-30' });
    assert.equal(bad.status, 400);
  });

  test('FX rates and fees', async () => {
    const rates = await operator.get('/operator/fx-rates');
    assert.ok(rates.json.rates.some((rate: any) => rate.quote === 'EUR'));
    const set = await operator.put('/operator/fx-rates/USD/EUR', { rate: '0.9' });
    assert.equal(set.status, 200, set.text);
    const { rows } = await gh.platform.context.pool.query(`SELECT rate::text AS rate FROM fx_rates WHERE base = 'USD' AND quote = 'EUR'`);
    assert.equal(Number(rows[0].rate), 0.9);
    assert.equal((await operator.put('/operator/fx-rates/USD/EUR', { rate: '0' })).status, 400);
    await operator.put('/operator/fx-rates/USD/EUR', { rate: '0.86' });
    const fees = await operator.put(`/operator/projects/${project.id}/fees`, { fees: [{ operation_type: 'sale', percent_basis_points: 250, fixed_minor: 30 }] });
    assert.equal(fees.status, 200, fees.text);
    const paymentId = nextPaymentId('fee');
    await approvedPayment(saleBody(project.id, paymentId, 2000));
    const detail = await admin.get(`/projects/${project.id}/payments/${paymentId}`);
    assert.deepEqual(
      detail.json.ledger_entries.map((entry: any) => `${entry.account}:${entry.side}:${entry.amount_minor}`),
      ['customer_funds:debit:2000', 'merchant_balance:credit:2000', 'merchant_balance:debit:80', 'fees:credit:80'],
    );
    await operator.put(`/operator/projects/${project.id}/fees`, { fees: [] });
    assert.deepEqual((await operator.get(`/operator/projects/${project.id}/fees`)).json.fees, []);
    const check = await operator.get(`/operator/ledger/check?project_id=${project.id}`);
    assert.equal(check.json.ok, true, JSON.stringify(check.json));
  });
});
