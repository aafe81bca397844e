import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { signGateRequest } from '../src/signature/index.ts';
import { createProject, type Project } from '../src/store/projects.ts';
import { stopTestServer } from './support/database.ts';
import { actAtApprovalPage, authBody, saleBody, startTestPlatform, type TestPlatform } from './support/platform.ts';

/**
 * COF purchases and every time rule, on real PostgreSQL, driven by test
 * clocks. Each scenario gets its own test project, so its clock moves alone.
 */
let gh: TestPlatform;
let sequence = 0;
const nextId = (label: string) => `${label}-${Date.now()}-${++sequence}`;

before(async () => {
  gh = await startTestPlatform();
});
after(async () => {
  await gh?.stop();
  await stopTestServer();
});

interface Scenario {
  project: Project;
  post(path: string, body: Record<string, any>): Promise<{ status: number; json: any }>;
  clockTo(iso: string): Promise<any>;
  clockBy(seconds: number): Promise<any>;
}

async function scenario(startIso: string): Promise<Scenario> {
  const project = await createProject(gh.platform.context.pool, { name: nextId('time'), mode: 'test', callbackUrl: gh.receiver.url });
  const post = async (path: string, body: Record<string, any>) => {
    const response = await fetch(`${gh.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(signGateRequest(body, project.secretKey)),
    });
    return { status: response.status, json: await response.json() };
  };
  const advance = async (clock: Record<string, unknown>) => {
    const response = await post('/data/v1/test-clock/advance', { general: { project_id: Number(project.id) }, clock });
    assert.equal(response.status, 200, JSON.stringify(response.json));
    return response.json;
  };
  await advance({ frozen_time: startIso });
  return { project, post, clockTo: (iso) => advance({ frozen_time: iso }), clockBy: (seconds) => advance({ advance_seconds: seconds }) };
}

function bodyFor(project: Project, body: Record<string, any>): Record<string, any> {
  body.general.project_id = Number(project.id);
  return body;
}

/** Registers a COF purchase through an approved sale; returns the registration id from the callback. */
async function register(s: Scenario, recurring: Record<string, unknown>, amount = 1000): Promise<{ paymentId: string; recurringId: number }> {
  const paymentId = nextId('register');
  const body = bodyFor(s.project, saleBody(s.project.id, paymentId, amount));
  body.recurring = { register: true, ...recurring };
  const response = await s.post('/v2/payment/wallet/paypal/sale', body);
  assert.equal(response.status, 200, JSON.stringify(response.json));
  const intermediate = await gh.waitForCallback((callback) => callback.payment.id === paymentId && callback.operation.code === '9999');
  await actAtApprovalPage(intermediate.redirect_data.url, 'approve');
  const final = await gh.waitForCallback((callback) => callback.payment.id === paymentId && callback.operation.code === '0');
  assert.equal(final.operation.type, 'sale');
  assert.equal(final.recurring.currency, 'USD');
  assert.equal(typeof final.recurring.id, 'number');
  return { paymentId, recurringId: final.recurring.id };
}

async function debitsOf(recurringId: number): Promise<{ payment_id: string; created_at: Date; status: string }[]> {
  const { rows } = await gh.platform.context.pool.query(
    `SELECT payment_id, created_at, status FROM payments WHERE recurring_id = $1 AND type = 'recurring' ORDER BY created_at, id`,
    [recurringId],
  );
  return rows;
}

async function waitForDebits(recurringId: number, count: number, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const debits = await debitsOf(recurringId);
    const final = debits.filter((debit) => debit.status === 'success' || debit.status === 'decline');
    if (final.length >= count || Date.now() > deadline) return debits;
    await sleep(100);
  }
}

const isoDay = (date: Date) => date.toISOString().slice(0, 19);

describe('COF purchases', () => {
  test('24 months of monthly debits on the 31st: last day of shorter months, one debit each, callbacks as the spec', async () => {
    const s = await scenario('2027-01-10T08:00:00Z');
    const scheduled = nextId('monthly');
    const { recurringId } = await register(s, {
      type: 'R', period: 'M', interval: 1, time: '10:00:00', start_date: '31-01-2027', scheduled_payment_id: scheduled,
      amount: 500, expiry_month: '12', expiry_year: 2028,
    });
    const advanced = await s.clockTo('2030-01-01T00:00:00Z');
    assert.equal(advanced.tasks_run >= 24, true);
    const debits = await waitForDebits(recurringId, 24);
    const expectedDays = [
      '2027-01-31', '2027-02-28', '2027-03-31', '2027-04-30', '2027-05-31', '2027-06-30', '2027-07-31', '2027-08-31',
      '2027-09-30', '2027-10-31', '2027-11-30', '2027-12-31', '2028-01-31', '2028-02-29', '2028-03-31', '2028-04-30',
      '2028-05-31', '2028-06-30', '2028-07-31', '2028-08-31', '2028-09-30', '2028-10-31', '2028-11-30', '2028-12-31',
    ];
    assert.deepEqual(debits.map((debit) => isoDay(debit.created_at)), expectedDays.map((day) => `${day}T10:00:00`));
    assert.deepEqual(debits.map((debit) => debit.payment_id), expectedDays.map((_, index) => (index === 0 ? scheduled : `${scheduled}-${index + 1}`)));
    assert.ok(debits.every((debit) => debit.status === 'success'), JSON.stringify(debits.map((d) => d.status)));
    const callback = await gh.waitForCallback((body) => body.payment.id === scheduled && body.operation.status === 'success');
    assert.equal(callback.payment.type, 'recurring');
    assert.equal(callback.operation.type, 'recurring');
    assert.deepEqual(callback.recurring, { id: recurringId, currency: 'USD' });
    assert.deepEqual(callback.payment.sum, { amount: 500, currency: 'USD' });
    assert.equal(callback.operation.created_date, '2027-01-31T10:00:00+0000');
    await s.clockBy(365 * 86_400);
    assert.equal((await debitsOf(recurringId)).length, 24, 'nothing after the expiry');
  });

  test('weekly every 3 weeks, quarterly and yearly schedules debit on the right days', async () => {
    const s = await scenario('2027-01-01T00:00:00Z');
    const weekly = await register(s, { type: 'R', cycle: 'week', interval: 3, time: '09:30:00', start_date: '05-01-2027', scheduled_payment_id: nextId('weekly') });
    const quarterly = await register(s, { type: 'R', period: 'Q', time: '12:00:00', start_date: '31-01-2027', scheduled_payment_id: nextId('quarterly') });
    const yearly = await register(s, { type: 'R', period: 'Y', time: '00:00:00', start_date: '29-02-2028', scheduled_payment_id: nextId('yearly') });
    await s.clockTo('2032-03-01T00:00:00Z');
    const weeklyDays = (await waitForDebits(weekly.recurringId, 3)).slice(0, 3).map((debit) => isoDay(debit.created_at));
    assert.deepEqual(weeklyDays, ['2027-01-05T09:30:00', '2027-01-26T09:30:00', '2027-02-16T09:30:00']);
    const quarterlyDays = (await waitForDebits(quarterly.recurringId, 5)).slice(0, 5).map((debit) => isoDay(debit.created_at));
    assert.deepEqual(quarterlyDays, ['2027-01-31T12:00:00', '2027-04-30T12:00:00', '2027-07-31T12:00:00', '2027-10-31T12:00:00', '2028-01-31T12:00:00']);
    const yearlyDays = (await waitForDebits(yearly.recurringId, 5)).map((debit) => isoDay(debit.created_at));
    assert.deepEqual(yearlyDays, ['2028-02-29T00:00:00', '2029-02-28T00:00:00', '2030-02-28T00:00:00', '2031-02-28T00:00:00', '2032-02-29T00:00:00']);
  });

  test('on-demand debit, then cancel: recurring_cancel callback, no more debits, later debits refused with 3183', async () => {
    const s = await scenario('2027-03-01T12:00:00Z');
    const { paymentId: registeringId, recurringId } = await register(s, {
      type: 'R', period: 'D', time: '12:00:00', start_date: '03-03-2027', scheduled_payment_id: nextId('daily'),
    });
    const onDemandId = nextId('on-demand');
    const debit = await s.post('/v2/payment/wallet/paypal/recurring', {
      general: { project_id: Number(s.project.id), payment_id: onDemandId },
      payment: { amount: 700, currency: 'USD' },
      customer: { ip_address: '192.0.2.1' },
      recurring: { id: recurringId },
    });
    assert.equal(debit.status, 200, JSON.stringify(debit.json));
    const debitCallback = await gh.waitForCallback((body) => body.payment.id === onDemandId);
    assert.equal(debitCallback.payment.type, 'recurring');
    assert.equal(debitCallback.operation.status, 'success');
    assert.deepEqual(debitCallback.recurring, { id: recurringId, currency: 'USD' });

    const cancel = await s.post('/v2/payment/wallet/paypal/recurring/cancel', {
      general: { project_id: Number(s.project.id), payment_id: registeringId },
      recurring: { id: recurringId },
    });
    assert.equal(cancel.status, 200, JSON.stringify(cancel.json));
    const cancelled = await gh.waitForCallback((body) => body.payment.id === registeringId && body.operation.type === 'recurring_cancel');
    assert.equal(cancelled.operation.status, 'success');
    assert.deepEqual(cancelled.operation.sum_initial, { amount: 0, currency: '' });
    assert.deepEqual(cancelled.operation.sum_converted, { amount: 0, currency: '' });
    assert.equal(cancelled.payment.status, 'success');
    assert.equal(cancelled.recurring, undefined);

    await s.clockBy(10 * 86_400);
    await sleep(500);
    assert.equal((await debitsOf(recurringId)).filter((row) => row.payment_id !== onDemandId).length, 0, 'no scheduled debit after cancel');
    const refused = await s.post('/v2/payment/wallet/paypal/recurring', {
      general: { project_id: Number(s.project.id), payment_id: nextId('after-cancel') },
      payment: { amount: 700, currency: 'USD' },
      customer: { ip_address: '192.0.2.1' },
      recurring: { id: recurringId },
    });
    assert.equal(refused.json.code, '3183');
    const again = await s.post('/v2/payment/wallet/paypal/recurring/cancel', {
      general: { project_id: Number(s.project.id), payment_id: registeringId },
      recurring: { id: recurringId },
    });
    assert.equal(again.json.code, '3183');
  });

  test('expiry stops scheduled debits and refuses on-demand ones with 3184', async () => {
    const s = await scenario('2027-05-01T06:00:00Z');
    const { recurringId } = await register(s, {
      type: 'R', period: 'D', time: '07:00:00', start_date: '02-05-2027', scheduled_payment_id: nextId('expiring'),
      expiry_day: 4, expiry_month: 5, expiry_year: 2027,
    });
    await s.clockTo('2027-05-20T00:00:00Z');
    const debits = await waitForDebits(recurringId, 3);
    assert.deepEqual(debits.map((debit) => isoDay(debit.created_at)), ['2027-05-02T07:00:00', '2027-05-03T07:00:00', '2027-05-04T07:00:00']);
    const refused = await s.post('/v2/payment/wallet/paypal/recurring', {
      general: { project_id: Number(s.project.id), payment_id: nextId('late') },
      payment: { amount: 100, currency: 'USD' },
      customer: { ip_address: '192.0.2.1' },
      recurring: { id: recurringId },
    });
    assert.equal(refused.json.code, '3184');
  });

  test('every invalid COF request gets its documented code and writes nothing', async () => {
    const s = await scenario('2027-06-01T00:00:00Z');
    const cases: [string, Record<string, unknown>, string][] = [
      ['scheduled_payment_id equal to payment_id', { type: 'R', period: 'M', start_date: '01-07-2027', scheduled_payment_id: 'SAME' }, '3181'],
      ['start_date today', { type: 'R', period: 'M', start_date: '01-06-2027', scheduled_payment_id: nextId('x') }, '3181'],
      ['start_date without scheduled_payment_id', { type: 'R', period: 'M', start_date: '01-07-2027' }, '3181'],
      ['interval without period', { type: 'R', interval: 2 }, '3181'],
      ['not a real date', { type: 'R', period: 'M', start_date: '31-02-2027', scheduled_payment_id: nextId('x') }, '3181'],
      ['expiry in the past', { type: 'U', expiry_month: 1, expiry_year: 2027 }, '3181'],
      ['unknown cycle', { type: 'R', cycle: 'fortnight' }, '2005'],
      ['interval over 100', { type: 'R', period: 'D', interval: 101 }, '2005'],
      ['bad time', { type: 'R', period: 'D', time: '25:00:00' }, '3181'],
      ['type missing', { period: 'D' }, '2004'],
    ];
    for (const [name, recurring, code] of cases) {
      const paymentId = name === 'scheduled_payment_id equal to payment_id' ? 'SAME' : nextId('invalid');
      const body = bodyFor(s.project, saleBody(s.project.id, paymentId));
      body.recurring = { register: true, ...recurring };
      const response = await s.post('/v2/payment/wallet/paypal/sale', body);
      assert.equal(response.json.code, code, `${name}: ${JSON.stringify(response.json)}`);
    }
    const { rows } = await gh.platform.context.pool.query('SELECT count(*)::int AS n FROM payments WHERE project_id = $1', [String(s.project.id)]);
    assert.equal(rows[0].n, 0);
    const unknown = await s.post('/v2/payment/wallet/paypal/recurring', {
      general: { project_id: Number(s.project.id), payment_id: nextId('unknown') },
      payment: { amount: 100, currency: 'USD' },
      customer: { ip_address: '192.0.2.1' },
      recurring: { id: 999_999 },
    });
    assert.equal(unknown.json.code, '3182');
  });
});

describe('holds and thresholds', () => {
  test('a hold is released 3 days after the auth operation was created', async () => {
    const s = await scenario('2027-02-01T00:00:00Z');
    const paymentId = nextId('hold');
    await s.post('/v2/payment/wallet/paypal/auth', bodyFor(s.project, authBody(s.project.id, paymentId)));
    const intermediate = await gh.waitForCallback((body) => body.payment.id === paymentId);
    await actAtApprovalPage(intermediate.redirect_data.url, 'approve');
    await gh.waitForCallback((body) => body.payment.id === paymentId && body.payment.status === 'awaiting capture');
    await s.clockBy(3 * 86_400 - 60);
    await sleep(300);
    assert.equal(gh.callbacksFor(paymentId).filter((body) => body.operation.type === 'cancel').length, 0, 'not yet');
    await s.clockBy(120);
    const released = await gh.waitForCallback((body) => body.payment.id === paymentId && body.operation.type === 'cancel');
    assert.equal(released.operation.status, 'success');
    assert.equal(released.payment.status, 'canceled');
  });

  test('a project set to capture instead captures the hold when it expires', async () => {
    const s = await scenario('2027-02-01T00:00:00Z');
    await gh.platform.context.pool.query(`UPDATE projects SET hold_expiry_action = 'capture', hold_period_seconds = 86400 WHERE id = $1`, [String(s.project.id)]);
    const paymentId = nextId('hold-capture');
    await s.post('/v2/payment/wallet/paypal/auth', bodyFor(s.project, authBody(s.project.id, paymentId)));
    const intermediate = await gh.waitForCallback((body) => body.payment.id === paymentId);
    await actAtApprovalPage(intermediate.redirect_data.url, 'approve');
    await gh.waitForCallback((body) => body.payment.id === paymentId && body.payment.status === 'awaiting capture');
    await s.clockBy(86_400);
    const captured = await gh.waitForCallback((body) => body.payment.id === paymentId && body.operation.type === 'capture');
    assert.equal(captured.operation.status, 'success');
    assert.equal(captured.payment.status, 'success');
  });

  test('a purchase not final within 3 days is declined with a callback', async () => {
    const s = await scenario('2027-02-01T00:00:00Z');
    const paymentId = nextId('abandoned');
    await s.post('/v2/payment/wallet/paypal/sale', bodyFor(s.project, saleBody(s.project.id, paymentId)));
    await gh.waitForCallback((body) => body.payment.id === paymentId);
    await s.clockBy(3 * 86_400 - 1);
    await sleep(300);
    assert.equal(gh.callbacksFor(paymentId).length, 1);
    await s.clockBy(1);
    const declined = await gh.waitForCallback((body) => body.payment.id === paymentId && body.operation.status === 'decline');
    assert.equal(declined.operation.code, '20106');
    assert.equal(declined.payment.status, 'decline');
  });

  test('a payout not final within 30 days is declined with a callback', async () => {
    const s = await scenario('2027-02-01T00:00:00Z');
    const paymentId = nextId('unclaimed');
    const response = await s.post('/v2/payment/wallet/paypal/payout', {
      general: { project_id: Number(s.project.id), payment_id: paymentId },
      payment: { amount: 1000, currency: 'USD' },
      customer: { id: 'c', ip_address: '192.0.2.1' },
      account: { number: 'unclaimed@example.com' },
    });
    assert.equal(response.status, 200);
    await sleep(1_000);
    assert.equal(gh.callbacksFor(paymentId).length, 0, 'an unclaimed payout stays pending');
    await s.clockBy(30 * 86_400);
    const declined = await gh.waitForCallback((body) => body.payment.id === paymentId);
    assert.equal(declined.operation.status, 'decline');
    assert.equal(declined.operation.code, '20106');
  });

  test('a refund not final within 35 days is declined and its reserved amount released', async () => {
    const s = await scenario('2027-02-01T00:00:00Z');
    const paymentId = nextId('refund-threshold');
    await s.post('/v2/payment/wallet/paypal/sale', bodyFor(s.project, saleBody(s.project.id, paymentId)));
    const intermediate = await gh.waitForCallback((body) => body.payment.id === paymentId);
    await actAtApprovalPage(intermediate.redirect_data.url, 'approve');
    await gh.waitForCallback((body) => body.payment.id === paymentId && body.payment.status === 'success');
    // A refund PayPal never answers: recorded as accepted (reserved, threshold planned) without a provider job.
    const pool = gh.platform.context.pool;
    const { rows } = await pool.query(
      `WITH p AS (UPDATE payments SET refund_reserved_minor = 400 WHERE project_id = $1 AND payment_id = $2 RETURNING id)
       INSERT INTO operations (payment_ref, project_id, type, status, amount_minor, currency, converted_amount_minor, converted_currency, request_id, created_at)
       SELECT p.id, $1, 'refund', 'processing', 400, 'USD', 400, 'USD', $3, '2027-02-01T00:00:00Z' FROM p RETURNING id`,
      [String(s.project.id), paymentId, nextId('request')],
    );
    await pool.query(
      `INSERT INTO scheduled_tasks (project_id, kind, subject_id, due_at, dedupe_key) VALUES ($1, 'threshold', $2, '2027-03-08T00:00:00Z', $3)`,
      [String(s.project.id), String(rows[0].id), `threshold:${rows[0].id}`],
    );
    await s.clockBy(35 * 86_400 - 60);
    await sleep(300);
    assert.equal(gh.callbacksFor(paymentId).filter((body) => body.operation.type === 'refund').length, 0);
    await s.clockBy(60);
    const declined = await gh.waitForCallback((body) => body.payment.id === paymentId && body.operation.type === 'refund');
    assert.equal(declined.operation.status, 'decline');
    assert.equal(declined.payment.status, 'success');
    const payment = await pool.query('SELECT refund_reserved_minor::int AS reserved FROM payments WHERE payment_id = $1', [paymentId]);
    assert.equal(payment.rows[0].reserved, 0);
  });

  test('production projects cannot use a test clock', async () => {
    const production = await createProject(gh.platform.context.pool, { name: nextId('prod'), mode: 'production' });
    const response = await fetch(`${gh.baseUrl}/data/v1/test-clock/advance`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(signGateRequest({ general: { project_id: Number(production.id) }, clock: { advance_seconds: 60 } }, production.secretKey)),
    });
    assert.equal(response.status, 400);
    assert.equal((await response.json()).code, '3090');
  });
});

describe('chargebacks', () => {
  test('a PayPal dispute becomes a chargeback operation with a callback; a forged one changes nothing', async () => {
    const paymentId = nextId('disputed');
    await gh.gate('/v2/payment/wallet/paypal/sale', saleBody(gh.project.id, paymentId, 2500));
    const intermediate = await gh.waitForCallback((body) => body.payment.id === paymentId);
    await actAtApprovalPage(intermediate.redirect_data.url, 'approve');
    await gh.waitForCallback((body) => body.payment.id === paymentId && body.payment.status === 'success');
    const { rows } = await gh.platform.context.pool.query('SELECT provider_capture_id FROM payments WHERE payment_id = $1', [paymentId]);
    const captureId = rows[0].provider_capture_id as string;

    const forged = await fetch(`${gh.baseUrl}/v2/webhooks/paypal/sandbox`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'paypal-transmission-id': 'x', 'paypal-transmission-time': new Date().toISOString(), 'paypal-transmission-sig': 'eA==', 'paypal-cert-url': `${gh.baseUrl}/sandbox/paypal/x`, 'paypal-auth-algo': 'SHA256withRSA' },
      body: JSON.stringify({ id: 'WH-FORGED-DISPUTE', event_type: 'CUSTOMER.DISPUTE.CREATED', resource: { dispute_id: 'PP-D-1', disputed_transactions: [{ seller_transaction_id: captureId }], dispute_amount: { currency_code: 'USD', value: '25.00' } } }),
    });
    assert.equal(forged.status, 400);
    await sleep(300);
    assert.equal(gh.callbacksFor(paymentId).filter((body) => body.operation.type === 'chargeback').length, 0);

    const raised = await fetch(`${gh.baseUrl}/sandbox/paypal/_test/disputes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ capture_id: captureId }),
    });
    assert.ok(raised.status < 300, `sandbox answered ${raised.status}`);
    // The dispute webhook is verified by a call back to the sandbox; under load a slow verification
    // makes the sandbox retry (its third attempt comes about 31 s later), so wait past that.
    const chargeback = await gh
      .waitForCallback((body) => body.payment.id === paymentId && body.operation.type === 'chargeback', 45_000)
      .catch(async (error: Error) => {
        // Say what the sandbox saw of each delivery of the dispute event, so a failure here can be told apart.
        const deliveries = await gh.platform.context.pool.query(
          `SELECT d.copy_number, d.attempts, d.delivered_at, d.next_attempt_at, d.last_status_code, d.last_error
             FROM paypal_sandbox.webhook_deliveries d JOIN paypal_sandbox.webhook_events e ON e.id = d.event_id
            WHERE e.event_type = 'CUSTOMER.DISPUTE.CREATED'`,
        );
        throw new Error(`no chargeback callback; dispute deliveries: ${JSON.stringify(deliveries.rows)}; ${error.message.slice(0, 200)}`);
      });
    assert.equal(chargeback.operation.status, 'success');
    assert.deepEqual(chargeback.operation.sum_initial, { amount: 2500, currency: 'USD' });
    const refund = await gh.gate('/v2/payment/wallet/paypal/refund', {
      general: { project_id: Number(gh.project.id), payment_id: paymentId },
      payment: { amount: 100, currency: 'USD', description: 'after chargeback' },
    });
    assert.equal(refund.json.code, '3283', 'nothing is left to refund after a full chargeback');
  });
});
