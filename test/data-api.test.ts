import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createRequire } from 'node:module';
import { createMerchant, createMerchantProject } from '../src/accounts/merchants.ts';
import { createUser } from '../src/accounts/users.ts';
import { DashboardClient } from '../src/dashboard/client.ts';
import { signDataApiRequest } from '../src/data-api/index.ts';
import { signGateRequest } from '../src/signature/index.ts';
import type { Project } from '../src/store/projects.ts';
import { stopTestServer } from './support/database.ts';
import { actAtApprovalPage, saleBody, startTestPlatform, type TestPlatform } from './support/platform.ts';

/**
 * The Data API: requests signed with a user's Data API key (Gate's
 * algorithm, top-level `signature`, `user_id`, `timestamp`); operations with
 * filters and paging, a payment's operations, balances, chargebacks, rates.
 * The test-clock routes under /data/v1 keep working beside it.
 */
const require = createRequire(import.meta.url);
const ecommpay = require('ecommpay') as { signer: (message: unknown, secret: string) => string };
const password = 'correct horse battery staple';
let gh: TestPlatform;
let project: Project;
let key: { userId: number; secret: string };
const payments: string[] = [];

before(async () => {
  gh = await startTestPlatform();
  const pool = gh.platform.context.pool;
  const merchant = await createMerchant(pool, 'Data Ltd');
  project = await createMerchantProject(pool, merchant.id, { name: 'Data', mode: 'test', callbackUrl: gh.receiver.url });
  await createUser(pool, { email: 'viewer@data.example', role: 'merchant_viewer', merchantId: merchant.id, password });
  const viewer = new DashboardClient(gh.baseUrl);
  await viewer.signIn('viewer@data.example', password);
  const created = await viewer.post('/data-api-keys', { label: 'bi' });
  key = { userId: created.json.user_id, secret: created.json.secret_key };
  for (const amount of [1000, 2500, 1001]) {
    const paymentId = `data-${amount}-${Date.now()}`;
    payments.push(paymentId);
    await gh.gate('/v2/payment/wallet/paypal/sale', saleBody(project.id, paymentId, amount), { secret: project.secretKey });
    const intermediate = await gh.waitForCallback((callback) => callback.payment.id === paymentId && callback.operation.code === '9999');
    await actAtApprovalPage(intermediate.redirect_data.url, 'approve');
    await gh.waitForCallback((callback) => callback.payment.id === paymentId && callback.operation.code !== '9999');
  }
  // A partial refund of the first payment, and a chargeback recorded on the second.
  await gh.gate(
    '/v2/payment/wallet/paypal/refund',
    { general: { project_id: Number(project.id), payment_id: payments[0] }, payment: { amount: 400, currency: 'USD', description: 'part' } },
    { secret: project.secretKey },
  );
  await gh.waitForCallback((callback) => callback.payment.id === payments[0] && callback.operation.type === 'refund');
});
after(async () => {
  await gh?.stop();
  await stopTestServer();
});

async function call(path: string, body: Record<string, unknown>, options: { secret?: string; unsigned?: boolean } = {}) {
  const base = { user_id: key.userId, timestamp: Math.floor(Date.now() / 1000), ...body };
  const payload = options.unsigned ? base : signDataApiRequest(base, options.secret ?? key.secret);
  const response = await fetch(`${gh.baseUrl}/data/v1/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
  return { status: response.status, json: (await response.json()) as any };
}

describe('authentication', () => {
  test('the signature is the Gate algorithm over the body: the ecommpay SDK’s signer produces an accepted one', async () => {
    const body = { user_id: key.userId, timestamp: Math.floor(Date.now() / 1000), project_id: Number(project.id) };
    const signed = { ...body, signature: ecommpay.signer(body, key.secret) };
    const response = await fetch(`${gh.baseUrl}/data/v1/balances/get`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(signed) });
    assert.equal(response.status, 200, await response.clone().text());
  });

  test('missing signature 3262, wrong key 3261, unknown user 7011, stale timestamp 7012, missing user_id 2004', async () => {
    assert.equal((await call('operations/get', {}, { unsigned: true })).json.code, '3262');
    assert.equal((await call('operations/get', {}, { secret: 'not-the-key' })).json.code, '3261');
    assert.equal((await call('operations/get', { user_id: 999_999 })).json.code, '7011');
    const stale = await call('operations/get', { timestamp: Math.floor(Date.now() / 1000) - 301 });
    assert.equal(stale.status, 401);
    assert.equal(stale.json.code, '7012');
    const response = await fetch(`${gh.baseUrl}/data/v1/operations/get`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(signDataApiRequest({ timestamp: 1 }, key.secret)),
    });
    assert.equal(((await response.json()) as any).code, '2004');
  });

  test('a revoked key stops working', async () => {
    const pool = gh.platform.context.pool;
    const viewer = new DashboardClient(gh.baseUrl);
    await viewer.signIn('viewer@data.example', password);
    const second = await viewer.post('/data-api-keys', { label: 'temporary' });
    assert.equal((await call('rates/get', {}, { secret: second.json.secret_key })).status, 200);
    await viewer.delete(`/data-api-keys/${second.json.key.id}`);
    assert.equal((await call('rates/get', {}, { secret: second.json.secret_key })).json.code, '3261');
    assert.equal((await call('rates/get', {})).status, 200, 'the other key still works');
    const { rows } = await pool.query(`SELECT count(*)::int AS count FROM audit_log WHERE action = 'data_api_key.revoke'`);
    assert.equal(rows[0].count, 1);
  });
});

describe('endpoints', () => {
  test('operations/get: filters by project, type, status and interval; pages with a cursor', async () => {
    const all = await call('operations/get', { project_id: Number(project.id) });
    assert.equal(all.status, 200, JSON.stringify(all.json));
    assert.deepEqual(all.json.operations.map((operation: any) => operation.type).sort(), ['refund', 'sale', 'sale', 'sale']);
    const declined = await call('operations/get', { status: ['decline'] });
    assert.deepEqual(declined.json.operations.map((operation: any) => operation.payment_id), [payments[2]], 'amount ending 01 declines');
    const refunds = await call('operations/get', { type: ['refund'] });
    assert.equal(refunds.json.operations[0].sum_initial.amount_minor, '400');
    assert.equal(refunds.json.operations[0].sum_initial.amount, '4.00');
    const future = await call('operations/get', { interval_from: new Date(Date.now() + 86_400_000).toISOString() });
    assert.deepEqual(future.json.operations, []);
    const first = await call('operations/get', { limit: 3 });
    assert.equal(first.json.operations.length, 3);
    const rest = await call('operations/get', { limit: 3, cursor: first.json.next_cursor });
    assert.equal(rest.json.operations.length, 1);
    assert.equal(rest.json.next_cursor, null);
    const ids = [...first.json.operations, ...rest.json.operations].map((operation: any) => operation.id);
    assert.equal(new Set(ids).size, 4);
    assert.equal((await call('operations/get', { cursor: 'garbage' })).json.code, '2005');
  });

  test('operations/payment: a payment and its operations in order', async () => {
    const response = await call('operations/payment', { project_id: Number(project.id), payment_id: payments[0] });
    assert.equal(response.status, 200, JSON.stringify(response.json));
    assert.equal(response.json.payment.status, 'partially refunded');
    assert.deepEqual(response.json.operations.map((operation: any) => `${operation.type}:${operation.status}`), ['sale:success', 'refund:success']);
    assert.equal((await call('operations/payment', { project_id: Number(project.id), payment_id: 'nope' })).json.code, '3061');
  });

  test('balances/get: from the ledger, per project and currency', async () => {
    const response = await call('balances/get', {});
    assert.deepEqual(response.json.balances, [
      {
        project_id: Number(project.id),
        currency: 'USD',
        balance_minor: String(1000 + 2500 - 400),
        accounts: { customer_funds: String(-(1000 + 2500 - 400)), merchant_balance: String(1000 + 2500 - 400), payouts_out: '0', chargebacks: '0', fees: '0' },
      },
    ]);
  });

  test('chargebacks/get lists chargeback operations only', async () => {
    const pool = gh.platform.context.pool;
    assert.deepEqual((await call('chargebacks/get', {})).json.chargebacks, []);
    // A dispute as PayPal's webhook would record it: a chargeback operation made final through the same path.
    const { applyProviderResult, successResult } = await import('../src/processing/apply.ts');
    const { rows } = await pool.query<{ id: bigint }>('SELECT id FROM payments WHERE project_id = $1 AND payment_id = $2', [String(project.id), payments[1]]);
    const operation = await pool.query<{ id: string }>(
      `INSERT INTO operations (payment_ref, project_id, type, status, amount_minor, currency, converted_amount_minor, converted_currency, request_id)
       VALUES ($1, $2, 'chargeback', 'processing', 700, 'USD', 700, 'USD', $3) RETURNING id::text AS id`,
      [String(rows[0].id), String(project.id), `dispute-${Date.now()}`],
    );
    await applyProviderResult(gh.platform.context, BigInt(operation.rows[0].id), successResult({ providerPaymentId: 'PP-D-1' }));
    const chargebacks = await call('chargebacks/get', {});
    assert.equal(chargebacks.json.chargebacks.length, 1);
    assert.equal(chargebacks.json.chargebacks[0].payment_id, payments[1]);
    const balances = await call('balances/get', {});
    assert.equal(balances.json.balances[0].accounts.chargebacks, '700');
    assert.equal(balances.json.balances[0].balance_minor, String(1000 + 2500 - 400 - 700));
  });

  test('rates/get: the operator’s FX table', async () => {
    const response = await call('rates/get', { base: 'USD' });
    const eur = response.json.rates.find((rate: any) => rate.quote === 'EUR');
    assert.equal(Number(eur.rate), 0.86);
  });

  test('the test-clock routes (signed with the project key) still answer under /data/v1', async () => {
    const response = await fetch(`${gh.baseUrl}/data/v1/test-clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(signGateRequest({ general: { project_id: Number(project.id) } }, project.secretKey)),
    });
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as any).project_id, Number(project.id));
  });
});
