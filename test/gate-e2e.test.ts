import assert from 'node:assert/strict';
import http from 'node:http';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { stopTestServer } from './support/database.ts';
import { NewPaymentWriter } from '../src/gate/new-payment-writer.ts';
import { createProject, createProjectReader, rotateSecretKey } from '../src/store/projects.ts';
import { createPool } from '../src/store/db.ts';
import { actAtApprovalPage, authBody, saleBody, startTestPlatform, type TestPlatform } from './support/platform.ts';

const require = createRequire(import.meta.url);
const ecommpay = require('ecommpay') as {
  Callback: new (secret: string, data: unknown) => { isPaymentSuccess(): boolean; getPaymentId(): string };
  signer: (message: unknown, secret: string) => string;
};

let gh: TestPlatform;

async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}
let sequence = 0;
const nextPaymentId = (label: string) => `${label}-${Date.now()}-${++sequence}`;

before(async () => {
  gh = await startTestPlatform();
});
after(async () => {
  await gh?.stop();
  await stopTestServer();
});

/** Every callback the merchant received must verify with the merchant's own SDK. */
function assertVerifiesWithEcommpaySdk(body: Record<string, unknown>) {
  const callback = new ecommpay.Callback(gh.project.secretKey, JSON.parse(JSON.stringify(body)));
  assert.equal(callback.getPaymentId(), (body.payment as { id: string }).id);
}

async function startPurchase(body: Record<string, any>) {
  const paymentId = body.general.payment_id as string;
  const path = body.return_url.return ? '/v2/payment/wallet/paypal/auth' : '/v2/payment/wallet/paypal/sale';
  const response = await gh.gate(path, body);
  assert.equal(response.status, 200, JSON.stringify(response.json));
  assert.equal(response.json.status, 'success');
  assert.equal(response.json.payment_id, paymentId);
  const intermediate = await gh.waitForCallback((callback) => callback.payment.id === paymentId && callback.operation.code === '9999');
  return { paymentId, requestId: response.json.request_id as string, intermediate };
}

async function approvedPurchase(body: Record<string, any>) {
  const started = await startPurchase(body);
  const landing = await actAtApprovalPage(started.intermediate.redirect_data.url, 'approve');
  const final = await gh.waitForCallback((callback) => callback.payment.id === started.paymentId && callback.operation.code !== '9999');
  return { ...started, landing, final };
}

describe('one-time purchases through Gate', () => {
  test('sale approved: intermediate callback with redirect data, customer sent to success, final success callback', async () => {
    const { paymentId, requestId, intermediate, landing, final } = await approvedPurchase(saleBody(gh.project.id, nextPaymentId('sale-ok')));
    assert.equal(intermediate.payment.status, 'awaiting redirect result');
    assert.equal(intermediate.operation.type, 'sale');
    assert.equal(intermediate.operation.message, 'Awaiting processing');
    assert.equal(intermediate.redirect_data.method, 'GET');
    assert.match(intermediate.redirect_data.url, /\/sandbox\/paypal\/checkoutnow\?token=/);
    assert.deepEqual(intermediate.redirect_data.body, {});
    assert.match(intermediate.operation.provider.payment_id, /^[A-Z0-9]{17}$/);
    assert.equal(intermediate.operation.request_id, requestId);
    assert.equal(landing, 'https://merchant.example/success');

    assert.equal(final.project_id, Number(gh.project.id));
    assert.deepEqual(Object.keys(final.payment).sort(), ['date', 'description', 'id', 'method', 'status', 'sum', 'type']);
    assert.equal(final.payment.type, 'purchase');
    assert.equal(final.payment.status, 'success');
    assert.equal(final.payment.method, 'PayPal Wallet');
    assert.deepEqual(final.payment.sum, { amount: 1000, currency: 'USD' });
    assert.match(final.payment.date, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0000$/);
    assert.equal(final.operation.type, 'sale');
    assert.equal(final.operation.status, 'success');
    assert.equal(final.operation.code, '0');
    assert.equal(final.operation.message, 'Success');
    assert.equal(final.operation.id, intermediate.operation.id);
    assert.equal(typeof final.operation.id, 'number');
    assert.deepEqual(final.operation.sum_initial, { amount: 1000, currency: 'USD' });
    assert.deepEqual(final.operation.sum_converted, { amount: 1000, currency: 'USD' });
    assert.equal(final.operation.provider.payment_id, intermediate.operation.provider.payment_id);
    assert.equal(final.operation.provider.auth_code, '');
    assert.match(final.operation.provider.date, /\+0000$/);
    assert.equal(final.customer.id, 'customer-1');
    assert.ok(final.account.number, 'the payer account is reported');
    assert.equal(typeof final.signature, 'string');
    for (const callback of gh.callbacksFor(paymentId)) assertVerifiesWithEcommpaySdk(callback);
    const { rows } = await gh.platform.context.pool.query(
      `SELECT o.provider_attempts, (SELECT count(*)::int FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id WHERE t.operation_id = o.id) AS entries
         FROM operations o JOIN payments p ON p.id = o.payment_ref WHERE p.project_id = $1 AND p.payment_id = $2`,
      [String(gh.project.id), paymentId],
    );
    assert.equal(rows[0].provider_attempts, 2, 'two tries reached PayPal: the order, then its capture');
    assert.equal(rows[0].entries, 2, 'the sale is booked: customer funds to the merchant balance');
  });

  test('sale declined by PayPal (amount ending 01): final decline 20000, payment decline', async () => {
    const { final } = await approvedPurchase(saleBody(gh.project.id, nextPaymentId('sale-decline'), 1001));
    assert.equal(final.payment.status, 'decline');
    assert.equal(final.operation.status, 'decline');
    assert.equal(final.operation.code, '20000');
    assert.equal(final.operation.message, 'General decline');
    assertVerifiesWithEcommpaySdk(final);
  });

  test('sale cancelled by the customer at PayPal: customer sent to decline URL, final decline', async () => {
    const { paymentId, intermediate } = await startPurchase(saleBody(gh.project.id, nextPaymentId('sale-cancel')));
    const landing = await actAtApprovalPage(intermediate.redirect_data.url, 'cancel');
    assert.equal(landing, 'https://merchant.example/decline');
    const final = await gh.waitForCallback((callback) => callback.payment.id === paymentId && callback.operation.status === 'decline');
    assert.equal(final.payment.status, 'decline');
    assert.equal(final.operation.code, '20105');
  });

  test('auth then capture: awaiting capture, then success', async () => {
    const { paymentId, landing, final } = await approvedPurchase(authBody(gh.project.id, nextPaymentId('auth-capture'), 10400, 'EUR'));
    assert.equal(landing, 'https://merchant.example/return');
    assert.equal(final.operation.type, 'auth');
    assert.equal(final.payment.status, 'awaiting capture');
    const capture = await gh.gate('/v2/payment/wallet/paypal/capture', { general: { project_id: Number(gh.project.id), payment_id: paymentId } });
    assert.equal(capture.status, 200, JSON.stringify(capture.json));
    const captured = await gh.waitForCallback((callback) => callback.payment.id === paymentId && callback.operation.type === 'capture');
    assert.equal(captured.operation.status, 'success');
    assert.equal(captured.payment.status, 'success');
    assert.deepEqual(captured.operation.sum_initial, { amount: 10400, currency: 'EUR' });
    assertVerifiesWithEcommpaySdk(captured);
    const again = await gh.gate('/v2/payment/wallet/paypal/capture', { general: { project_id: Number(gh.project.id), payment_id: paymentId } });
    assert.equal(again.status, 400);
    assert.equal(again.json.code, '3060');
  });

  test('auth then cancel: canceled', async () => {
    const { paymentId } = await approvedPurchase(authBody(gh.project.id, nextPaymentId('auth-cancel')));
    const cancel = await gh.gate('/v2/payment/wallet/paypal/cancel', { general: { project_id: Number(gh.project.id), payment_id: paymentId } });
    assert.equal(cancel.status, 200, JSON.stringify(cancel.json));
    const cancelled = await gh.waitForCallback((callback) => callback.payment.id === paymentId && callback.operation.type === 'cancel');
    assert.equal(cancelled.operation.status, 'success');
    assert.equal(cancelled.payment.status, 'canceled');
  });

  test('declined capture (amount ending 06) leaves the payment awaiting capture', async () => {
    const { paymentId } = await approvedPurchase(authBody(gh.project.id, nextPaymentId('capture-decline'), 2006));
    await gh.gate('/v2/payment/wallet/paypal/capture', { general: { project_id: Number(gh.project.id), payment_id: paymentId } });
    const declined = await gh.waitForCallback((callback) => callback.payment.id === paymentId && callback.operation.type === 'capture');
    assert.equal(declined.operation.status, 'decline');
    assert.equal(declined.payment.status, 'awaiting capture');
  });
});

describe('refunds', () => {
  test('partial then full refund: partially refunded, then refunded with sum 0', async () => {
    const { paymentId } = await approvedPurchase(saleBody(gh.project.id, nextPaymentId('refund')));
    const partial = await gh.gate('/v2/payment/wallet/paypal/refund', {
      general: { project_id: Number(gh.project.id), payment_id: paymentId },
      payment: { amount: 300, currency: 'USD', description: 'partial' },
    });
    assert.equal(partial.status, 200, JSON.stringify(partial.json));
    const first = await gh.waitForCallback((callback) => callback.payment.id === paymentId && callback.operation.type === 'refund');
    assert.equal(first.operation.status, 'success');
    assert.equal(first.payment.status, 'partially refunded');
    assert.deepEqual(first.payment.sum, { amount: 700, currency: 'USD' });
    assert.deepEqual(first.operation.sum_initial, { amount: 300, currency: 'USD' });

    const full = await gh.gate('/v2/payment/wallet/paypal/refund', {
      general: { project_id: Number(gh.project.id), payment_id: paymentId },
      payment: { description: 'the rest' },
    });
    assert.equal(full.status, 200, JSON.stringify(full.json));
    const second = await gh.waitForCallback(
      (callback) => callback.payment.id === paymentId && callback.operation.type === 'refund' && callback.operation.id !== first.operation.id,
    );
    assert.equal(second.payment.status, 'refunded');
    assert.deepEqual(second.payment.sum, { amount: 0, currency: 'USD' });
    assert.deepEqual(second.operation.sum_initial, { amount: 700, currency: 'USD' });
    assertVerifiesWithEcommpaySdk(second);

    const more = await gh.gate('/v2/payment/wallet/paypal/refund', {
      general: { project_id: Number(gh.project.id), payment_id: paymentId },
      payment: { amount: 1, currency: 'USD', description: 'too much' },
    });
    assert.equal(more.status, 400);
    assert.equal(more.json.code, '3060');
  });

  test('declined refund (amount ending 04) leaves the payment success', async () => {
    const { paymentId } = await approvedPurchase(saleBody(gh.project.id, nextPaymentId('refund-decline')));
    const refund = await gh.gate('/v2/payment/wallet/paypal/refund', {
      general: { project_id: Number(gh.project.id), payment_id: paymentId },
      payment: { amount: 104, currency: 'USD', description: 'declined' },
    });
    assert.equal(refund.status, 200);
    const declined = await gh.waitForCallback((callback) => callback.payment.id === paymentId && callback.operation.type === 'refund');
    assert.equal(declined.operation.status, 'decline');
    assert.equal(declined.operation.code, '20100');
    assert.equal(declined.payment.status, 'success');
    assert.deepEqual(declined.payment.sum, { amount: 1000, currency: 'USD' });
  });

  test('refund more than captured answers 3283 and changes nothing', async () => {
    const { paymentId } = await approvedPurchase(saleBody(gh.project.id, nextPaymentId('refund-over')));
    const refund = await gh.gate('/v2/payment/wallet/paypal/refund', {
      general: { project_id: Number(gh.project.id), payment_id: paymentId },
      payment: { amount: 1001, currency: 'USD', description: 'too much' },
    });
    assert.equal(refund.status, 400);
    assert.equal(refund.json.code, '3283');
    const { rows } = await gh.platform.context.pool.query(`SELECT count(*)::int AS n FROM operations o JOIN payments p ON p.id = o.payment_ref WHERE p.payment_id = $1 AND o.type = 'refund'`, [paymentId]);
    assert.equal(rows[0].n, 0);
  });

  test('50 concurrent 40.00 refunds of a 100.00 capture: exactly 2 accepted, never more than captured', async () => {
    const { paymentId } = await approvedPurchase(saleBody(gh.project.id, nextPaymentId('refund-race'), 10000));
    const responses = await Promise.all(
      Array.from({ length: 50 }, () =>
        gh.gate('/v2/payment/wallet/paypal/refund', {
          general: { project_id: Number(gh.project.id), payment_id: paymentId },
          payment: { amount: 4000, currency: 'USD', description: 'race' },
        }),
      ),
    );
    const accepted = responses.filter((response) => response.status === 200);
    const refused = responses.filter((response) => response.status !== 200);
    assert.equal(accepted.length, 2);
    assert.ok(refused.every((response) => response.json.code === '3283'), JSON.stringify(refused.map((r) => r.json.code)));
    await gh.waitForCallback(() => gh.callbacksFor(paymentId).filter((callback) => callback.operation.type === 'refund').length === 2);
    const { rows } = await gh.platform.context.pool.query(
      'SELECT captured_minor::text, refunded_minor::text, refund_reserved_minor::text, status FROM payments WHERE payment_id = $1',
      [paymentId],
    );
    assert.deepEqual(rows[0], { captured_minor: '10000', refunded_minor: '8000', refund_reserved_minor: '0', status: 'partially refunded' });
  });
});

describe('payouts', () => {
  const payoutBody = (paymentId: string, amount: number, receiver: string) => ({
    general: { project_id: Number(gh.project.id), payment_id: paymentId },
    payment: { amount, currency: 'GBP', description: 'prize' },
    customer: { id: 'customer-2', ip_address: '2001:db8::1' },
    account: { number: receiver },
  });

  test('payout to a PayPal account succeeds', async () => {
    const paymentId = nextPaymentId('payout');
    const response = await gh.gate('/v2/payment/wallet/paypal/payout', payoutBody(paymentId, 1000, 'DHEV3UAE54T6G'));
    assert.equal(response.status, 200, JSON.stringify(response.json));
    const final = await gh.waitForCallback((callback) => callback.payment.id === paymentId && callback.operation.status !== 'processing');
    assert.equal(final.payment.type, 'payout');
    assert.equal(final.payment.status, 'success');
    assert.equal(final.operation.type, 'payout');
    assert.equal(final.operation.status, 'success');
    assert.deepEqual(final.account, { number: 'DHEV3UAE54T6G' });
    assertVerifiesWithEcommpaySdk(final);
  });

  test('a payout carrying a recurring object registers nothing (only purchases register COF purchases)', async () => {
    const paymentId = nextPaymentId('payout-recurring');
    const body: Record<string, any> = payoutBody(paymentId, 1000, 'DHEV3UAE54T6G');
    body.recurring = { register: true };
    const response = await gh.gate('/v2/payment/wallet/paypal/payout', body);
    assert.equal(response.status, 200, JSON.stringify(response.json));
    const { rows } = await gh.platform.context.pool.query('SELECT recurring_id FROM payments WHERE payment_id = $1', [paymentId]);
    assert.equal(rows[0].recurring_id, null);
  });

  test('payout to an unknown receiver is declined', async () => {
    const paymentId = nextPaymentId('payout-decline');
    await gh.gate('/v2/payment/wallet/paypal/payout', payoutBody(paymentId, 1005, 'unknown@example.com'));
    const final = await gh.waitForCallback((callback) => callback.payment.id === paymentId);
    assert.equal(final.payment.status, 'decline');
    assert.equal(final.operation.status, 'decline');
  });
});

describe('status, duplicates, signatures and validation', () => {
  test('status request returns the payment and all its operations, signed', async () => {
    const { paymentId } = await approvedPurchase(saleBody(gh.project.id, nextPaymentId('status')));
    const status = await gh.gate('/v2/payment/status', { general: { project_id: Number(gh.project.id), payment_id: paymentId } });
    assert.equal(status.status, 200);
    assert.equal(status.json.payment.status, 'success');
    assert.equal(status.json.operations.length, 1);
    assert.equal(status.json.operations[0].type, 'sale');
    assert.deepEqual(status.json.errors, []);
    assertVerifiesWithEcommpaySdk(status.json);
    const missing = await gh.gate('/v2/payment/status', { general: { project_id: Number(gh.project.id), payment_id: 'no-such-payment' } });
    assert.equal(missing.status, 404);
    assert.equal(missing.json.code, '3061');
  });

  test('duplicate payment_id answers 3041, also when 10 requests race', async () => {
    const body = saleBody(gh.project.id, nextPaymentId('dup'));
    const first = await gh.gate('/v2/payment/wallet/paypal/sale', body);
    assert.equal(first.status, 200);
    const second = await gh.gate('/v2/payment/wallet/paypal/sale', body);
    assert.equal(second.status, 400);
    assert.equal(second.json.code, '3041');
    assert.equal(second.json.status, 'error');

    const raced = saleBody(gh.project.id, nextPaymentId('dup-race'));
    const responses = await Promise.all(Array.from({ length: 10 }, () => gh.gate('/v2/payment/wallet/paypal/sale', raced)));
    assert.equal(responses.filter((response) => response.status === 200).length, 1);
    assert.equal(responses.filter((response) => response.json.code === '3041').length, 9);
  });

  test('a burst of 96 sales, written together in a few transactions: one payment per payment_id, each with its operation and threshold, each run by its provider job once', async () => {
    const ids = Array.from({ length: 32 }, () => nextPaymentId('burst'));
    // Three requests per payment_id, interleaved, all at once: the group writer batches them, never two of one id in a batch.
    const bodies = [...ids, ...ids, ...ids].map((id) => saleBody(gh.project.id, id));
    const responses = await Promise.all(bodies.map((body) => gh.gate('/v2/payment/wallet/paypal/sale', body)));
    const acceptedIds = responses.filter((response) => response.status === 200).map((response) => response.json.payment_id);
    assert.deepEqual([...acceptedIds].sort(), [...ids].sort(), 'each payment_id accepted exactly once');
    assert.equal(responses.filter((response) => response.json.code === '3041').length, 64);
    const { rows } = await gh.platform.context.pool.query(
      `SELECT p.payment_id, o.type, o.request_id, o.converted_amount_minor::text AS converted,
              (SELECT count(*)::int FROM scheduled_tasks t WHERE t.dedupe_key = 'threshold:' || o.id AND t.due_at = o.created_at + interval '3 days') AS thresholds
         FROM payments p JOIN operations o ON o.payment_ref = p.id WHERE p.project_id = $1 AND p.payment_id = ANY($2)`,
      [String(gh.project.id), ids],
    );
    assert.equal(rows.length, 32);
    const requestIds = new Map(responses.filter((response) => response.status === 200).map((response) => [response.json.payment_id, response.json.request_id]));
    for (const row of rows) {
      assert.equal(row.type, 'sale');
      assert.equal(row.request_id, requestIds.get(row.payment_id), 'the operation carries the request_id its answer named');
      assert.equal(row.converted, '1000');
      assert.equal(row.thresholds, 1);
    }
    // And they are processed: every one reaches the redirect step, its provider called once (one job run each).
    for (const id of ids) await gh.waitForCallback((body) => body.payment?.id === id && body.payment?.status === 'awaiting redirect result');
    const attempts = await gh.platform.context.pool.query<{ provider_attempts: number }>(
      `SELECT o.provider_attempts FROM payments p JOIN operations o ON o.payment_ref = p.id WHERE p.project_id = $1 AND p.payment_id = ANY($2)`,
      [String(gh.project.id), ids],
    );
    assert.deepEqual(attempts.rows.map((row) => row.provider_attempts), ids.map(() => 1));
  });

  test("a queue's job partition is analyzed once it holds 1,000 jobs, so pg-boss's cached plans stop scanning it whole", async () => {
    const { pool, queue } = gh.platform.context;
    const partitionOf = async () =>
      (await pool.query(`SELECT partition_name FROM pgboss.queue WHERE name = 'notification-email'`)).rows[0].partition_name as string;
    const partition = await partitionOf();
    const analyzed = async () =>
      (await pool.query(`SELECT last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL AS done FROM pg_stat_user_tables WHERE schemaname = 'pgboss' AND relname = $1`, [partition]))
        .rows[0].done as boolean;
    assert.equal(await analyzed(), false, 'a fresh partition has no statistics yet');
    // Due tomorrow, so no worker takes them.
    const startAfter = new Date(Date.now() + 86_400_000);
    await queue.boss.insert(Array.from({ length: 1_100 }, (_, index) => ({ name: 'notification-email', data: { emailId: `stats-${index}` }, startAfter })));
    try {
      await eventually(analyzed, 20_000);
    } finally {
      await pool.query(`DELETE FROM pgboss.job WHERE name = 'notification-email' AND data->>'emailId' LIKE 'stats-%'`);
    }
  });

  test('the group writer: a row that breaks a constraint fails alone, the rest of its batch is written', async () => {
    // One transaction at a time: the first write goes alone, the next three wait and are written as one batch.
    const writer = new NewPaymentWriter(gh.platform.context, 1);
    const now = new Date();
    const plan = (paymentId: string, amountMinor: bigint) => ({
      project: gh.project,
      method: 'paypal',
      row: {
        payment: {
          projectId: gh.project.id, paymentId, type: 'purchase' as const, method: 'paypal', status: 'processing' as const, currency: 'USD', amountMinor,
          description: '', customer: { id: 'c1' }, accountNumber: null, returnUrl: {}, additionalData: null, callbackUrl: null,
          callbackDelaySeconds: 0, callbackDisabled: true, createdAt: now,
        },
        operation: { type: 'sale' as const, amountMinor, currency: 'USD', convertedAmountMinor: amountMinor, convertedCurrency: 'USD', requestId: `req-${paymentId}` },
        thresholdDueAt: undefined,
        holdExpiryDueAt: undefined,
      },
    });
    const ids = [nextPaymentId('group-first'), nextPaymentId('group-ok'), nextPaymentId('group-bad'), nextPaymentId('group-ok')];
    // Amount 0 breaks payments' CHECK (amount_minor > 0): its batch fails, and is written again row by row.
    const amounts = [100n, 200n, 0n, 300n];
    const outcomes = await Promise.allSettled(ids.map((id, index) => writer.write(plan(id, amounts[index]))));
    assert.deepEqual(outcomes.map((outcome) => outcome.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    const { rows } = await gh.platform.context.pool.query('SELECT payment_id FROM payments WHERE project_id = $1 AND payment_id = ANY($2) ORDER BY payment_id', [String(gh.project.id), ids]);
    assert.deepEqual(rows.map((row) => row.payment_id), [ids[0], ids[1], ids[3]].sort());
  });

  test('project reads of concurrent requests share one statement, and are never stale', async () => {
    // A pool of its own: the platform's is busy with other tests' payments, whose statements would count too.
    const pool = createPool(gh.database.connectionString, 2);
    const reader = createProjectReader(pool);
    const original = pool.query.bind(pool);
    let statements = 0;
    (pool as { query: unknown }).query = (...args: unknown[]) => {
      statements += 1;
      return (original as (...a: unknown[]) => unknown)(...args);
    };
    try {
      const found = await Promise.all([...Array.from({ length: 40 }, () => reader.find(gh.project.id)), reader.find(987_654_321n)]);
      assert.equal(statements, 1, '41 reads in one turn of the event loop: one statement');
      assert.ok(found.slice(0, 40).every((project) => project?.id === gh.project.id));
      assert.equal(found[40], undefined, 'an unknown id reads as missing, without failing the others');
    } finally {
      (pool as { query: unknown }).query = original;
    }
    const other = await createProject(pool, { name: 'rotating', mode: 'test', callbackUrl: gh.receiver.url });
    assert.equal((await reader.find(other.id))?.secretKey, other.secretKey);
    const rotated = await rotateSecretKey(pool, other.id, 0);
    assert.notEqual(rotated?.secretKey, other.secretKey);
    assert.equal((await reader.find(other.id))?.secretKey, rotated?.secretKey, 'a rotated key is seen by the very next read');
    await pool.end();
  });

  test('bad signature answers 3261, missing signature 3262, and nothing is written', async () => {
    const body = saleBody(gh.project.id, nextPaymentId('badsig'));
    const bad = await gh.gate('/v2/payment/wallet/paypal/sale', body, { secret: 'not-the-secret' });
    assert.equal(bad.status, 401);
    assert.equal(bad.json.code, '3261');
    const missing = await gh.gate('/v2/payment/wallet/paypal/sale', body, { unsigned: true });
    assert.equal(missing.status, 401);
    assert.equal(missing.json.code, '3262');
    const { rows } = await gh.platform.context.pool.query('SELECT count(*)::int AS n FROM payments WHERE payment_id = $1', [body.general.payment_id]);
    assert.equal(rows[0].n, 0);
  });

  test('a request signed by the npm ecommpay SDK is accepted', async () => {
    const body = saleBody(gh.project.id, nextPaymentId('sdk'));
    const signature = ecommpay.signer(body, gh.project.secretKey);
    body.general.signature = signature;
    const response = await gh.gate('/v2/payment/wallet/paypal/sale', body, { unsigned: true });
    assert.equal(response.status, 200, JSON.stringify(response.json));
  });

  test('every required sale field, missing once, answers 2004 naming it', async () => {
    const required = [
      'general', 'general.project_id', 'general.payment_id', 'payment', 'payment.amount', 'payment.currency',
      'customer', 'customer.id', 'customer.ip_address', 'return_url', 'return_url.success', 'return_url.decline',
    ];
    for (const path of required) {
      const body = saleBody(gh.project.id, nextPaymentId('missing'));
      const keys = path.split('.');
      let holder: any = body;
      for (const key of keys.slice(0, -1)) holder = holder[key];
      delete holder[keys[keys.length - 1]];
      const response = await gh.gate('/v2/payment/wallet/paypal/sale', body, { unsigned: true });
      assert.equal(response.status, 400, path);
      assert.equal(response.json.code, '2004', `${path}: ${JSON.stringify(response.json)}`);
      assert.match(response.json.message, new RegExp(path.replaceAll('.', '\\.')), path);
    }
    const { rows } = await gh.platform.context.pool.query(`SELECT count(*)::int AS n FROM payments WHERE payment_id LIKE 'missing-%'`);
    assert.equal(rows[0].n, 0);
  });

  test('every required field of every other endpoint, missing once, answers 2004 and writes nothing', async () => {
    const projectId = Number(gh.project.id);
    const bodies: Record<string, [() => Record<string, any>, string[]]> = {
      '/v2/payment/wallet/paypal/auth': [() => authBody(gh.project.id, nextPaymentId('missing-auth')), ['general.payment_id', 'payment.amount', 'payment.currency', 'customer.id', 'customer.ip_address', 'return_url', 'return_url.return']],
      '/v2/payment/wallet/paypal/payout': [
        () => ({ general: { project_id: projectId, payment_id: nextPaymentId('missing-payout') }, payment: { amount: 100, currency: 'USD' }, customer: { id: 'c', ip_address: '192.0.2.1' }, account: { number: 'A1' } }),
        ['general.project_id', 'payment.amount', 'payment.currency', 'customer.id', 'customer.ip_address', 'account', 'account.number'],
      ],
      '/v2/payment/wallet/paypal/refund': [() => ({ general: { project_id: projectId, payment_id: 'any' }, payment: { description: 'x' } }), ['general.payment_id', 'payment', 'payment.description']],
      '/v2/payment/wallet/paypal/capture': [() => ({ general: { project_id: projectId, payment_id: 'any' } }), ['general', 'general.project_id', 'general.payment_id']],
      '/v2/payment/wallet/paypal/cancel': [() => ({ general: { project_id: projectId, payment_id: 'any' } }), ['general.payment_id']],
      '/v2/payment/status': [() => ({ general: { project_id: projectId, payment_id: 'any' } }), ['general.project_id', 'general.payment_id']],
      '/v2/payment/wallet/paypal/recurring': [
        () => ({ general: { project_id: projectId, payment_id: nextPaymentId('missing-debit') }, payment: { amount: 100, currency: 'USD' }, customer: { ip_address: '192.0.2.1' }, recurring: { id: 5 } }),
        ['payment.amount', 'customer.ip_address', 'recurring', 'recurring.id'],
      ],
      '/v2/payment/wallet/paypal/recurring/cancel': [() => ({ general: { project_id: projectId, payment_id: 'any' }, recurring: { id: 5 } }), ['recurring.id']],
    };
    const before = (await gh.platform.context.pool.query('SELECT count(*)::int AS n FROM payments')).rows[0].n;
    for (const [path, [build, required]] of Object.entries(bodies)) {
      for (const field of required) {
        const body = build();
        const keys = field.split('.');
        let holder: any = body;
        for (const key of keys.slice(0, -1)) holder = holder[key];
        delete holder[keys[keys.length - 1]];
        const response = await gh.gate(path, body, { unsigned: true });
        assert.equal(response.json.code, '2004', `${path} without ${field}: ${JSON.stringify(response.json)}`);
        assert.match(response.json.message, new RegExp(field.replaceAll('.', '\\.')));
      }
    }
    const after = (await gh.platform.context.pool.query('SELECT count(*)::int AS n FROM payments')).rows[0].n;
    assert.equal(after, before);
  });

  test('sum_converted is in the project settlement currency, through the FX table', async () => {
    await gh.platform.context.pool.query(`UPDATE projects SET settlement_currency = 'EUR' WHERE id = $1`, [String(gh.project.id)]);
    try {
      const paymentId = nextPaymentId('converted');
      await gh.gate('/v2/payment/wallet/paypal/sale', saleBody(gh.project.id, paymentId, 10_000));
      const intermediate = await gh.waitForCallback((callback) => callback.payment.id === paymentId);
      assert.deepEqual(intermediate.operation.sum_initial, { amount: 10_000, currency: 'USD' });
      assert.deepEqual(intermediate.operation.sum_converted, { amount: 8_600, currency: 'EUR' });
    } finally {
      await gh.platform.context.pool.query(`UPDATE projects SET settlement_currency = NULL WHERE id = $1`, [String(gh.project.id)]);
    }
  });

  test('wrong formats and PayPal currency rules answer documented codes', async () => {
    const cases: [string, (body: any) => void, string][] = [
      ['amount as string', (body) => (body.payment.amount = '1000'), '2005'],
      ['lowercase currency', (body) => (body.payment.currency = 'usd'), '2005'],
      ['bad IP', (body) => (body.customer.ip_address = '999.1.1.1'), '2005'],
      ['bad country', (body) => (body.customer.country = 'Germany'), '2005'],
      ['bad return URL', (body) => (body.return_url.success = 'javascript:alert(1)'), '2005'],
      ['additional_verification not 4 digits', (body) => (body.additional_data = { additional_verification: '12' }), '2005'],
      ['unlisted currency', (body) => (body.payment.currency = 'RUB'), '3025'],
      ['BRL outside Brazil', (body) => ((body.payment.currency = 'BRL'), (body.customer.country = 'US')), '3026'],
      ['over 60,000.00 USD', (body) => (body.payment.amount = 6_000_001), '3027'],
      ['over the maximum in EUR via FX', (body) => ((body.payment.currency = 'EUR'), (body.payment.amount = 5_200_000)), '3027'],
      ['payment_id too long', (body) => (body.general.payment_id = 'x'.repeat(256)), '2005'],
      ['NUL character in a value', (body) => (body.customer.id = 'a\u0000b'), '2005'],
      ['NUL character in a key of additional data', (body) => (body.extra = { 'k\u0000': 1 }), '2005'],
    ];
    for (const [name, mutate, code] of cases) {
      const body = saleBody(gh.project.id, nextPaymentId('format'));
      mutate(body);
      const response = await gh.gate('/v2/payment/wallet/paypal/sale', body);
      assert.equal(response.json.code, code, `${name}: ${JSON.stringify(response.json)}`);
      assert.ok(response.status >= 400 && response.status < 500, name);
    }
    const ok = saleBody(gh.project.id, nextPaymentId('brl'), 1000, 'BRL');
    ok.customer.country = 'BR';
    assert.equal((await gh.gate('/v2/payment/wallet/paypal/sale', ok)).status, 200);
  });

  test('malformed JSON, unknown endpoints and unknown projects get clear errors, never a 5xx', async () => {
    const broken = await fetch(`${gh.baseUrl}/v2/payment/wallet/paypal/sale`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"general":' });
    assert.equal(broken.status, 400);
    assert.equal((await broken.json()).code, '2003');
    const unknown = await gh.gate('/v2/payment/wallet/bitcoin/sale', saleBody(gh.project.id, nextPaymentId('method')));
    assert.equal(unknown.json.code, '2010');
    const noProject = await gh.gate('/v2/payment/wallet/paypal/sale', saleBody(999_999n, nextPaymentId('project')));
    assert.equal(noProject.json.code, '3001');
    const huge = await fetch(`${gh.baseUrl}/v2/payment/wallet/paypal/sale`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ padding: 'x'.repeat(2_000_000) }),
    });
    assert.equal(huge.status, 413);
  });
});

describe('callback delivery', () => {
  test('a receiver answering 500 gets the callback again until it answers 200; every attempt is recorded', async () => {
    gh.receiver.respondWith = 500;
    const paymentId = nextPaymentId('retry');
    await gh.gate('/v2/payment/wallet/paypal/sale', saleBody(gh.project.id, paymentId));
    await sleep(2_500);
    gh.receiver.respondWith = 200;
    await gh.waitForCallback((callback) => callback.payment.id === paymentId, 20_000);
    // The receiver has it; the platform records the 200 right after.
    await eventually(async () => {
      const { rows } = await gh.platform.context.pool.query(
        `SELECT c.status FROM callbacks c JOIN payments p ON p.id = c.payment_ref WHERE p.payment_id = $1`,
        [paymentId],
      );
      return rows[0]?.status === 'delivered';
    });
    const { rows } = await gh.platform.context.pool.query(
      `SELECT c.status, c.attempts, array_agg(a.http_status ORDER BY a.attempt) AS statuses
         FROM callbacks c JOIN payments p ON p.id = c.payment_ref JOIN callback_attempts a ON a.callback_id = c.id
        WHERE p.payment_id = $1 GROUP BY c.id`,
      [paymentId],
    );
    assert.equal(rows[0].status, 'delivered');
    assert.ok(rows[0].attempts >= 2);
    assert.equal(rows[0].statuses.at(-1), 200);
    assert.ok(rows[0].statuses.slice(0, -1).every((status: number) => status === 500));
  });

  test('a receiver that answers only at the timeout holds one delivery slot each, never the deliveries to everybody else', async () => {
    // 8 callbacks to a receiver that hangs: as many as the old 2 workers x 4 jobs had slots in all.
    let open = 0;
    let closed = 0;
    let answer = false;
    const waiting = new Set<http.ServerResponse>();
    const hanging = http.createServer((request, response) => {
      request.resume();
      if (answer) return response.end('ok');
      open += 1;
      waiting.add(response);
      response.on('close', () => {
        waiting.delete(response);
        if (!response.writableEnded) closed += 1;
      });
    });
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const hangingUrl = `http://127.0.0.1:${(hanging.address() as { port: number }).port}/callbacks`;
    try {
      for (let index = 0; index < 8; index += 1) {
        const body = saleBody(gh.project.id, nextPaymentId('hanging'));
        body.general.merchant_callback_url = hangingUrl;
        assert.equal((await gh.gate('/v2/payment/wallet/paypal/sale', body)).status, 200);
      }
      await eventually(async () => open >= 8, 10_000);
      const paymentId = nextPaymentId('next-in-line');
      await gh.gate('/v2/payment/wallet/paypal/sale', saleBody(gh.project.id, paymentId));
      await gh.waitForCallback((callback) => callback.payment?.id === paymentId, 10_000);
      assert.equal(closed, 0, 'delivered while all 8 slow attempts were still waiting for their answer (none had timed out)');
    } finally {
      answer = true;
      for (const response of waiting) response.end('ok');
      hanging.closeAllConnections();
      await new Promise((resolve) => hanging.close(resolve));
    }
  });

  test('callback.force_disable sends nothing; callback.delay postpones the first attempt', async () => {
    const silent = saleBody(gh.project.id, nextPaymentId('silent'));
    silent.callback = { force_disable: true };
    await gh.gate('/v2/payment/wallet/paypal/sale', silent);
    const delayed = saleBody(gh.project.id, nextPaymentId('delayed'));
    delayed.callback = { delay: 3 };
    const sentAt = Date.now();
    await gh.gate('/v2/payment/wallet/paypal/sale', delayed);
    await gh.waitForCallback((callback) => callback.payment.id === delayed.general.payment_id);
    const arrived = gh.receiver.callbacks.find((callback) => callback.body.payment.id === delayed.general.payment_id)!;
    assert.ok(arrived.receivedAt - sentAt >= 2_900, `arrived after ${arrived.receivedAt - sentAt} ms`);
    assert.equal(gh.callbacksFor(silent.general.payment_id).length, 0);
    const { rows } = await gh.platform.context.pool.query(
      `SELECT c.status FROM callbacks c JOIN payments p ON p.id = c.payment_ref WHERE p.payment_id = $1`,
      [silent.general.payment_id],
    );
    assert.deepEqual(rows.map((row) => row.status), ['disabled']);
  });
});
