import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildCallbackBody } from '../src/callbacks/body.ts';
import { applyProviderResult, successResult } from '../src/processing/apply.ts';
import { findOperation, findPayment } from '../src/store/payments.ts';
import { actAtApprovalPage, authBody, saleBody, startTestPlatform, type TestPlatform } from './support/platform.ts';

/**
 * A provider result is written in one statement that checks the rows did not
 * change since they were read, and its callback is built from the read plus
 * the changes, not from the rows the statement stores. These tests hold
 * that the callback still reports exactly what was stored, for every kind of
 * result, and that racing results still settle an operation once.
 */
let gh: TestPlatform;
let sequence = 0;
const nextPaymentId = (label: string) => `${label}-${Date.now()}-${++sequence}`;

before(async () => {
  gh = await startTestPlatform();
});
after(async () => {
  await gh.stop();
});

/** The callback rows of a payment, oldest first, with the body as stored (signature removed). */
async function storedCallbacks(paymentId: string): Promise<{ operationId: bigint; kind: string; body: Record<string, any> }[]> {
  const { rows } = await gh.platform.context.pool.query<{ operation_id: bigint; kind: string; body: string }>(
    `SELECT c.operation_id, c.kind, c.body FROM callbacks c JOIN payments p ON p.id = c.payment_ref
      WHERE p.project_id = $1 AND p.payment_id = $2 ORDER BY c.id`,
    [String(gh.project.id), paymentId],
  );
  return rows.map((row) => {
    const { signature: _signature, ...body } = JSON.parse(row.body);
    return { operationId: BigInt(row.operation_id), kind: row.kind, body };
  });
}

/** The callback a payment's rows call for now, built from the stored payment and operation. */
async function bodyFromStoredRows(paymentId: string, operationId: bigint, redirectData?: unknown): Promise<Record<string, unknown>> {
  const context = gh.platform.context;
  const payment = await findPayment(context.pool, gh.project.id, paymentId);
  const operation = await findOperation(context.pool, operationId);
  assert.ok(payment && operation);
  const method = context.methods.get(payment.method)!;
  const built = buildCallbackBody({
    projectId: gh.project.id,
    methodDisplayName: method.displayName,
    providerNumber: method.providerNumber,
    payment,
    operation,
    redirectData: redirectData as never,
  });
  return JSON.parse(JSON.stringify(built));
}

/** Asserts the payment's latest callback equals what its stored rows say now. */
async function assertLatestCallbackMatchesRows(paymentId: string): Promise<Record<string, any>> {
  const callbacks = await storedCallbacks(paymentId);
  const latest = callbacks.at(-1)!;
  const expected = await bodyFromStoredRows(paymentId, latest.operationId, latest.body.redirect_data);
  // An operation that is not final yet is dated when its callback is built (there is no stored time to compare).
  if (latest.body.operation.code === '9999') (expected.operation as { date: string }).date = latest.body.operation.date;
  assert.deepEqual(latest.body, expected);
  return latest.body;
}

async function started(body: Record<string, any>, path: string): Promise<{ paymentId: string; approvalUrl: string }> {
  const paymentId = body.general.payment_id as string;
  const response = await gh.gate(path, body);
  assert.equal(response.status, 200, JSON.stringify(response.json));
  const intermediate = await gh.waitForCallback((callback) => callback.payment.id === paymentId && callback.operation.code === '9999');
  const stored = await assertLatestCallbackMatchesRows(paymentId);
  assert.equal(stored.payment.status, 'awaiting redirect result');
  return { paymentId, approvalUrl: intermediate.redirect_data.url };
}

async function finalCallback(paymentId: string, type: string): Promise<Record<string, any>> {
  await gh.waitForCallback((callback) => callback.payment.id === paymentId && callback.operation.type === type && callback.operation.code !== '9999');
  return assertLatestCallbackMatchesRows(paymentId);
}

async function followUp(path: string, paymentId: string, payment?: Record<string, unknown>): Promise<void> {
  const response = await gh.gate(path, { general: { project_id: Number(gh.project.id), payment_id: paymentId }, ...(payment ? { payment } : {}) });
  assert.equal(response.status, 200, JSON.stringify(response.json));
}

test('every kind of result: the callback reports the payment and operation exactly as stored', async () => {
  const sale = await started(saleBody(gh.project.id, nextPaymentId('rw-sale')), '/v2/payment/wallet/paypal/sale');
  await actAtApprovalPage(sale.approvalUrl, 'approve');
  assert.equal((await finalCallback(sale.paymentId, 'sale')).payment.status, 'success');

  await followUp('/v2/payment/wallet/paypal/refund', sale.paymentId, { amount: 300, currency: 'USD', description: 'partial' });
  assert.equal((await finalCallback(sale.paymentId, 'refund')).payment.status, 'partially refunded');
  await followUp('/v2/payment/wallet/paypal/refund', sale.paymentId, { description: 'the rest' });
  await gh.waitForCallback((callback) => callback.payment.id === sale.paymentId && callback.payment.status === 'refunded');
  assert.deepEqual((await assertLatestCallbackMatchesRows(sale.paymentId)).payment.sum, { amount: 0, currency: 'USD' });

  const declined = await started(saleBody(gh.project.id, nextPaymentId('rw-decline')), '/v2/payment/wallet/paypal/sale');
  await actAtApprovalPage(declined.approvalUrl, 'cancel');
  assert.equal((await finalCallback(declined.paymentId, 'sale')).operation.status, 'decline');

  const captured = await started(authBody(gh.project.id, nextPaymentId('rw-auth-capture')), '/v2/payment/wallet/paypal/auth');
  await actAtApprovalPage(captured.approvalUrl, 'approve');
  assert.equal((await finalCallback(captured.paymentId, 'auth')).payment.status, 'awaiting capture');
  await followUp('/v2/payment/wallet/paypal/capture', captured.paymentId);
  assert.equal((await finalCallback(captured.paymentId, 'capture')).payment.status, 'success');

  const cancelled = await started(authBody(gh.project.id, nextPaymentId('rw-auth-cancel')), '/v2/payment/wallet/paypal/auth');
  await actAtApprovalPage(cancelled.approvalUrl, 'approve');
  await finalCallback(cancelled.paymentId, 'auth');
  await followUp('/v2/payment/wallet/paypal/cancel', cancelled.paymentId);
  assert.equal((await finalCallback(cancelled.paymentId, 'cancel')).payment.status, 'canceled');

  const payoutId = nextPaymentId('rw-payout');
  const payout = await gh.gate('/v2/payment/wallet/paypal/payout', {
    general: { project_id: Number(gh.project.id), payment_id: payoutId },
    payment: { amount: 1000, currency: 'GBP', description: 'prize' },
    customer: { id: 'customer-2', ip_address: '2001:db8::1' },
    account: { number: 'DHEV3UAE54T6G' },
  });
  assert.equal(payout.status, 200, JSON.stringify(payout.json));
  assert.equal((await finalCallback(payoutId, 'payout')).payment.status, 'success');
});

test('racing results for one operation: one is applied, with one ledger posting and one final callback', async () => {
  const context = gh.platform.context;
  const sale = await started(saleBody(gh.project.id, nextPaymentId('rw-race')), '/v2/payment/wallet/paypal/sale');
  const payment = await findPayment(context.pool, gh.project.id, sale.paymentId);
  const { rows } = await context.pool.query<{ id: string }>(`SELECT id::text FROM operations WHERE payment_ref = $1`, [String(payment!.ref)]);
  const operationId = BigInt(rows[0].id);
  const outcomes = await Promise.all(
    Array.from({ length: 8 }, (_, index) => applyProviderResult(context, operationId, successResult({ providerPaymentId: `race-${index}`, captureId: `CAPTURE-${index}` }))),
  );
  assert.equal(outcomes.filter(Boolean).length, 1, `exactly one result applied: ${JSON.stringify(outcomes)}`);
  const counts = await context.pool.query<{ postings: number; finals: number; captured: string }>(
    `SELECT (SELECT count(*)::int FROM ledger_transactions WHERE operation_id = $1) AS postings,
            (SELECT count(*)::int FROM callbacks WHERE operation_id = $1 AND kind = 'final') AS finals,
            (SELECT captured_minor::text FROM payments WHERE id = $2) AS captured`,
    [String(operationId), String(payment!.ref)],
  );
  assert.deepEqual(counts.rows[0], { postings: 1, finals: 1, captured: '1000' });
  const final = await assertLatestCallbackMatchesRows(sale.paymentId);
  assert.equal(final.operation.status, 'success');
});
