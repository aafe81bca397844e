import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { createUser } from '../src/accounts/users.ts';
import { deliverCallback } from '../src/callbacks/deliver.ts';
import { DashboardClient } from '../src/dashboard/client.ts';
import { redactedPaths } from '../src/platform.ts';
import { isPrivateAddress, urlRefusal } from '../src/security/urls.ts';
import { signGateRequest } from '../src/signature/index.ts';
import { createProject, type Project } from '../src/store/projects.ts';
import { stopTestServer } from './support/database.ts';
import { actAtApprovalPage, saleBody, startRefusingPaypalLive, startTestPlatform, type TestPlatform } from './support/platform.ts';

/**
 * Merchant isolation, SSRF guards, security headers, flood limits and the
 * promise that secrets never reach logs or responses.
 */
let gh: TestPlatform;
const logLines: string[] = [];
let liveCalls: string[] = [];
let liveUrl = '';
let closeLive: () => void = () => undefined;

before(async () => {
  const live = await startRefusingPaypalLive((request) => liveCalls.push(`${request.method} ${request.url}`));
  liveUrl = live.url;
  closeLive = live.close;
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  const logger = pino({ level: 'debug', redact: { paths: redactedPaths, censor: '***' } }, sink);
  gh = await startTestPlatform({ paypalLiveBaseUrl: liveUrl, logLevel: 'debug', rateLimitPerMinute: 300_000 }, logger);
});
after(async () => {
  await gh?.stop();
  closeLive();
  await stopTestServer();
});

async function otherProject(mode: 'test' | 'production' = 'test'): Promise<Project> {
  return createProject(gh.platform.context.pool, { name: `other-${Date.now()}`, mode, callbackUrl: gh.receiver.url });
}

let operator: DashboardClient | undefined;

/** A production project whose PayPal onboarding went through every step (operator API) to `ready` with `permissions`, with live credentials. */
async function onboardedProduction(permissions: string[]): Promise<Project> {
  const production = await otherProject('production');
  if (!operator) {
    const password = 'correct horse battery staple';
    await createUser(gh.platform.context.pool, { email: 'ops@gatehouse.example', role: 'operator', merchantId: null, password });
    operator = new DashboardClient(gh.baseUrl);
    assert.equal((await operator.signIn('ops@gatehouse.example', password)).status, 200);
  }
  for (const step of ['requested', 'link_sent', 'rights_granted', 'set_up', 'ready']) {
    const moved = await moveOnboarding(production, { state: step, ...(step === 'rights_granted' ? { paypal_merchant_id: 'LIVEMERCHANT1', permissions } : {}) });
    assert.equal(moved.status, 200, moved.text);
  }
  await gh.platform.context.pool.query(`UPDATE projects SET paypal_client_id = 'live-client', paypal_client_secret = 'live-secret-value' WHERE id = $1`, [String(production.id)]);
  return production;
}

function moveOnboarding(project: Project, body: Record<string, unknown>) {
  return operator!.post(`/operator/projects/${project.id}/paypal-onboarding`, body);
}

function payoutBody(projectId: bigint, paymentId: string): Record<string, any> {
  return {
    general: { project_id: Number(projectId), payment_id: paymentId },
    payment: { amount: 700, currency: 'USD', description: 'Payout' },
    customer: { id: 'payee-1', ip_address: '192.0.2.10' },
    account: { number: 'payee@example.com' },
  };
}

async function writtenFor(project: Project): Promise<{ payments: number; operations: number }> {
  const { rows } = await gh.platform.context.pool.query(
    `SELECT (SELECT count(*)::int FROM payments WHERE project_id = $1) AS payments, (SELECT count(*)::int FROM operations WHERE project_id = $1) AS operations`,
    [String(project.id)],
  );
  return rows[0];
}

async function post(project: Project, path: string, body: Record<string, any>, secret = project.secretKey) {
  const response = await fetch(`${gh.baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(signGateRequest(body, secret)),
  });
  return { status: response.status, json: await response.json(), headers: response.headers };
}

describe('merchant isolation', () => {
  test("every Gate endpoint refuses another project's keys and another project's payments", async () => {
    const other = await otherProject();
    const paymentId = `iso-${Date.now()}`;
    await gh.gate('/v2/payment/wallet/paypal/sale', saleBody(gh.project.id, paymentId));
    const intermediate = await gh.waitForCallback((body) => body.payment.id === paymentId);
    await actAtApprovalPage(intermediate.redirect_data.url, 'approve');
    await gh.waitForCallback((body) => body.payment.id === paymentId && body.payment.status === 'success');
    const mine = Number(gh.project.id);
    const theirs = Number(other.id);
    const endpoints: [string, Record<string, any>][] = [
      ['/v2/payment/wallet/paypal/sale', saleBody(gh.project.id, `${paymentId}-x`)],
      ['/v2/payment/wallet/paypal/capture', { general: { project_id: mine, payment_id: paymentId } }],
      ['/v2/payment/wallet/paypal/cancel', { general: { project_id: mine, payment_id: paymentId } }],
      ['/v2/payment/wallet/paypal/refund', { general: { project_id: mine, payment_id: paymentId }, payment: { description: 'x' } }],
      ['/v2/payment/status', { general: { project_id: mine, payment_id: paymentId } }],
      ['/v2/payment/wallet/paypal/recurring', { general: { project_id: mine, payment_id: `${paymentId}-r` }, payment: { amount: 100, currency: 'USD' }, customer: { ip_address: '192.0.2.1' }, recurring: { id: 11001 } }],
      ['/v2/payment/wallet/paypal/recurring/cancel', { general: { project_id: mine, payment_id: paymentId }, recurring: { id: 11001 } }],
      ['/data/v1/test-clock', { general: { project_id: mine } }],
    ];
    let refused = 0;
    for (const [path, body] of endpoints) {
      // Their key on our project id: the signature cannot verify.
      const forged = await post(gh.project, path, body, other.secretKey);
      assert.equal(forged.json.code, '3261', `${path}: ${JSON.stringify(forged.json)}`);
      refused += 1;
      // Their own key and project id, naming our payment: it does not exist for them.
      if (path.endsWith('/sale') || path.includes('test-clock')) continue;
      const crossed = JSON.parse(JSON.stringify(body));
      crossed.general.project_id = theirs;
      const answer = await post(other, path, crossed);
      assert.ok(['3061', '3182'].includes(answer.json.code), `${path}: ${JSON.stringify(answer.json)}`);
      refused += 1;
    }
    assert.equal(refused, endpoints.length * 2 - 2);
    const { rows } = await gh.platform.context.pool.query('SELECT count(*)::int AS n FROM payments WHERE project_id = $1', [String(other.id)]);
    assert.equal(rows[0].n, 0, 'nothing was written for the other project');
  });
});

describe('SSRF guards', () => {
  test('address classification', () => {
    for (const address of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '::1', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '0.0.0.0', '100.64.0.1']) {
      assert.equal(isPrivateAddress(address), true, address);
    }
    for (const address of ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946', '8.8.8.8']) assert.equal(isPrivateAddress(address), false, address);
    assert.match(urlRefusal('http://localhost/cb', false)!, /local host/);
    assert.match(urlRefusal('http://[::1]/cb', false)!, /private/);
    assert.match(urlRefusal('ftp://example.com/cb', false)!, /http/);
    assert.match(urlRefusal('https://user:pass@example.com/cb', false)!, /credentials/);
    assert.equal(urlRefusal('https://merchant.example/cb', false), undefined);
    assert.equal(urlRefusal('http://127.0.0.1:9/cb', true), undefined);
  });

  test('production projects cannot name private callback or return URLs; nothing is written', async () => {
    const production = await otherProject('production');
    await gh.platform.context.pool.query(`UPDATE projects SET paypal_client_id = 'live-client', paypal_client_secret = 'live-secret-value', paypal_enabled = true WHERE id = $1`, [String(production.id)]);
    for (const [field, mutate] of [
      ['general.merchant_callback_url', (body: any) => (body.general.merchant_callback_url = 'http://169.254.169.254/latest/meta-data')],
      ['return_url.success', (body: any) => (body.return_url.success = 'http://10.0.0.5/ok')],
      ['general.merchant_callback_url', (body: any) => (body.general.merchant_callback_url = 'http://localhost:8080/cb')],
    ] as const) {
      const body = saleBody(production.id, `ssrf-${Date.now()}-${field}`);
      mutate(body);
      const response = await post(production, '/v2/payment/wallet/paypal/sale', body);
      assert.equal(response.json.code, '2005', JSON.stringify(response.json));
      assert.match(response.json.message, new RegExp(field.replace('.', '\\.')));
    }
    const { rows } = await gh.platform.context.pool.query('SELECT count(*)::int AS n FROM payments WHERE project_id = $1', [String(production.id)]);
    assert.equal(rows[0].n, 0);
  });

  test('a production callback whose URL points into the network is refused at delivery, not sent, and not retried', async () => {
    const production = await otherProject('production');
    const pool = gh.platform.context.pool;
    const before = gh.receiver.callbacks.length;
    const { rows } = await pool.query(
      `WITH p AS (INSERT INTO payments (project_id, payment_id, type, method, status, currency, amount_minor)
                  VALUES ($1, $2, 'purchase', 'paypal', 'success', 'USD', 100) RETURNING id)
       INSERT INTO callbacks (project_id, payment_ref, kind, url, body) SELECT $1, p.id, 'final', $3, '{}' FROM p RETURNING id`,
      [String(production.id), `ssrf-delivery-${Date.now()}`, gh.receiver.url],
    );
    await deliverCallback(gh.platform.context, BigInt(rows[0].id));
    const stored = await pool.query(
      `SELECT c.status, a.error FROM callbacks c JOIN callback_attempts a ON a.callback_id = c.id WHERE c.id = $1`,
      [rows[0].id],
    );
    assert.equal(stored.rows[0].status, 'failed');
    assert.match(stored.rows[0].error, /refused/);
    assert.equal(gh.receiver.callbacks.length, before, 'the receiver on 127.0.0.1 got nothing');
  });

  test('a production project without onboarded PayPal answers 3029 and writes nothing', async () => {
    const production = await otherProject('production');
    const response = await post(production, '/v2/payment/wallet/paypal/sale', saleBody(production.id, `not-onboarded-${Date.now()}`));
    assert.equal(response.json.code, '3029');
    await gh.platform.context.pool.query('UPDATE projects SET paypal_enabled = true WHERE id = $1', [String(production.id)]);
    const noCredentials = await post(production, '/v2/payment/wallet/paypal/sale', saleBody(production.id, `no-credentials-${Date.now()}`));
    assert.equal(noCredentials.json.code, '3029');
    const { rows } = await gh.platform.context.pool.query('SELECT count(*)::int AS n FROM payments WHERE project_id = $1', [String(production.id)]);
    assert.equal(rows[0].n, 0);
  });

  test('production projects talk to PayPal live, never to the built-in sandbox', async () => {
    const production = await onboardedProduction(['purchases_refunds']);
    liveCalls = [];
    const sandboxOrdersBefore = (await gh.platform.context.pool.query('SELECT count(*)::int AS n FROM paypal_sandbox.orders')).rows[0].n;
    const body = saleBody(production.id, `live-${Date.now()}`);
    body.return_url = { success: 'https://shop.example/ok', decline: 'https://shop.example/no' };
    const response = await post(production, '/v2/payment/wallet/paypal/sale', body);
    assert.equal(response.status, 200, JSON.stringify(response.json));
    const deadline = Date.now() + 10_000;
    while (liveCalls.length === 0 && Date.now() < deadline) await sleep(50);
    assert.ok(liveCalls.some((call) => call.startsWith('POST /v1/oauth2/token')), JSON.stringify(liveCalls));
    const sandboxOrdersAfter = (await gh.platform.context.pool.query('SELECT count(*)::int AS n FROM paypal_sandbox.orders')).rows[0].n;
    assert.equal(sandboxOrdersAfter, sandboxOrdersBefore);
  });
});

describe('PayPal onboarding permissions (production projects)', () => {
  test('rights for purchases and refunds only: a payout is refused with 3029 and nothing is written; a sale is accepted', async () => {
    const production = await onboardedProduction(['purchases_refunds']);
    const payout = await post(production, '/v2/payment/wallet/paypal/payout', payoutBody(production.id, `no-payout-right-${Date.now()}`));
    assert.equal(payout.status, 400);
    assert.equal(payout.json.code, '3029', JSON.stringify(payout.json));
    assert.match(payout.json.message, /does not grant payouts/);
    assert.deepEqual(await writtenFor(production), { payments: 0, operations: 0 });
    const sale = saleBody(production.id, `purchase-right-${Date.now()}`);
    sale.return_url = { success: 'https://shop.example/ok', decline: 'https://shop.example/no' };
    const accepted = await post(production, '/v2/payment/wallet/paypal/sale', sale);
    assert.equal(accepted.status, 200, JSON.stringify(accepted.json));
  });

  test('rights for payouts only: a payout is accepted; a sale, a refund and a COF debit are refused with 3029', async () => {
    const production = await onboardedProduction(['payouts']);
    const payout = await post(production, '/v2/payment/wallet/paypal/payout', payoutBody(production.id, `payout-right-${Date.now()}`));
    assert.equal(payout.status, 200, JSON.stringify(payout.json));
    const refused = [
      ['/v2/payment/wallet/paypal/sale', saleBody(production.id, `no-purchase-right-${Date.now()}`)],
      ['/v2/payment/wallet/paypal/refund', { general: { project_id: Number(production.id), payment_id: payout.json.payment_id }, payment: { description: 'x' } }],
      ['/v2/payment/wallet/paypal/capture', { general: { project_id: Number(production.id), payment_id: payout.json.payment_id } }],
      [
        '/v2/payment/wallet/paypal/recurring',
        { ...saleBody(production.id, `no-debit-right-${Date.now()}`), return_url: undefined, recurring: { id: 1 } },
      ],
    ] as const;
    for (const [path, body] of refused) {
      const answer = await post(production, path, JSON.parse(JSON.stringify(body)));
      assert.equal(answer.json.code, '3029', `${path}: ${JSON.stringify(answer.json)}`);
      assert.match(answer.json.message, /does not grant purchases and refunds/);
    }
    assert.deepEqual(await writtenFor(production), { payments: 1, operations: 1 }, 'only the payout was written');
  });

  test('revoking the rights takes effect at once, also if paypal_enabled were left on', async () => {
    const production = await onboardedProduction(['purchases_refunds', 'payouts']);
    assert.equal((await post(production, '/v2/payment/wallet/paypal/payout', payoutBody(production.id, `before-revoke-${Date.now()}`))).status, 200);
    assert.equal((await moveOnboarding(production, { state: 'revoked' })).status, 200);
    await gh.platform.context.pool.query('UPDATE projects SET paypal_enabled = true WHERE id = $1', [String(production.id)]);
    const after = await post(production, '/v2/payment/wallet/paypal/payout', payoutBody(production.id, `after-revoke-${Date.now()}`));
    assert.equal(after.json.code, '3029', JSON.stringify(after.json));
    assert.deepEqual(await writtenFor(production), { payments: 1, operations: 1 });
  });

  test('test projects need no onboarding: payouts and sales are accepted', async () => {
    const project = await otherProject('test');
    const { rows } = await gh.platform.context.pool.query('SELECT count(*)::int AS n FROM paypal_onboarding WHERE project_id = $1', [String(project.id)]);
    assert.equal(rows[0].n, 0);
    assert.equal((await post(project, '/v2/payment/wallet/paypal/payout', payoutBody(project.id, `test-payout-${Date.now()}`))).status, 200);
    assert.equal((await post(project, '/v2/payment/wallet/paypal/sale', saleBody(project.id, `test-sale-${Date.now()}`))).status, 200);
  });
});

describe('headers, limits and secrets', () => {
  test('security headers on JSON answers, errors and pages', async () => {
    for (const response of [
      await fetch(`${gh.baseUrl}/health`),
      await fetch(`${gh.baseUrl}/v2/payment/status`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }),
      await fetch(`${gh.baseUrl}/nowhere`),
      await fetch(`${gh.baseUrl}/sandbox/paypal/checkoutnow?token=NOPE`),
    ]) {
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff', response.url);
      assert.equal(response.headers.get('x-frame-options'), 'DENY', response.url);
      assert.ok(response.headers.get('content-security-policy'), response.url);
      assert.equal(response.headers.get('referrer-policy'), 'no-referrer', response.url);
    }
  });

  test('no secret key, sandbox secret or signature appears in logs or error answers', async () => {
    const paymentId = `secrets-${Date.now()}`;
    await gh.gate('/v2/payment/wallet/paypal/sale', saleBody(gh.project.id, paymentId));
    const intermediate = await gh.waitForCallback((body) => body.payment.id === paymentId);
    await actAtApprovalPage(intermediate.redirect_data.url, 'approve');
    await gh.waitForCallback((body) => body.payment.id === paymentId && body.operation.code === '0');
    const wrong = await gh.gate('/v2/payment/wallet/paypal/sale', saleBody(gh.project.id, `${paymentId}-bad`), { secret: 'wrong-secret' });
    assert.equal(wrong.json.code, '3261');
    const { rows } = await gh.platform.context.pool.query(`SELECT secret_key FROM projects UNION ALL SELECT value FROM settings`);
    const secrets = [...rows.map((row) => Object.values(row)[0] as string), 'live-secret-value'];
    assert.ok(logLines.length > 0, 'the suite wrote logs to scan');
    const everything = logLines.join('\n') + JSON.stringify(wrong.json);
    for (const secret of secrets) assert.equal(everything.includes(secret), false, 'a secret leaked into logs or an answer');
  });
});

describe('flood limit', () => {
  test('past the per-client rate limit requests answer 429 with code 2007', async () => {
    const limited = await startTestPlatform({ rateLimitPerMinute: 20 });
    try {
      const statuses: number[] = [];
      for (let index = 0; index < 25; index += 1) {
        const response = await fetch(`${limited.baseUrl}/v2/payment/status`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
        statuses.push(response.status);
        if (response.status === 429) assert.equal((await response.json()).code, '2007');
        else await response.body?.cancel();
      }
      assert.equal(statuses.filter((status) => status === 429).length, 5);
    } finally {
      await limited.stop();
    }
  });

  test('behind a trusted proxy (TRUST_PROXY) the limit counts each client of X-Forwarded-For, never the proxy as a whole', async () => {
    const statusesFor = async (baseUrl: string) => {
      const statuses: number[] = [];
      for (let index = 0; index < 30; index += 1) {
        const client = `203.0.113.${index % 3}`;
        const response = await fetch(`${baseUrl}/v2/payment/status`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': client }, body: '{}' });
        statuses.push(response.status);
        await response.body?.cancel();
      }
      return statuses.filter((status) => status === 429).length;
    };
    const proxied = await startTestPlatform({ rateLimitPerMinute: 10, trustProxy: '127.0.0.1' });
    try {
      assert.equal(await statusesFor(proxied.baseUrl), 0, 'three clients, ten requests each: none over its own limit');
    } finally {
      await proxied.stop();
    }
    const untrusted = await startTestPlatform({ rateLimitPerMinute: 10 });
    try {
      assert.equal(await statusesFor(untrusted.baseUrl), 20, 'without TRUST_PROXY a forged X-Forwarded-For changes nothing: one address, 30 requests');
    } finally {
      await untrusted.stop();
    }
  });
});
