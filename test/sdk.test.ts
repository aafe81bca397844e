import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCallbackServer, type CallbackServer } from '../packages/sdk/examples/callback-server.ts';
import { checkoutUrl } from '../packages/sdk/examples/payment-page.ts';
import { startSale } from '../packages/sdk/examples/sale.ts';
import {
  CallbackFormatError,
  CallbackSignatureError,
  GateClient,
  GateRequestError,
  ORDERINGS,
  createCallbackHandler,
  isFinalCallback,
  paymentPageUrl,
  parseCallback,
  sign,
  signCallback,
  signGateRequest,
  stringToSign as sdkStringToSign,
  verify,
  verifyPaymentPageParams,
  type Callback,
} from '../packages/sdk/src/index.ts';
import { stringToSign as platformStringToSign, verifyGateRequest } from '../src/signature/index.ts';
import { createProject, type Project } from '../src/store/projects.ts';
import { stopTestServer } from './support/database.ts';
import { actAtApprovalPage, startTestPlatform, type TestPlatform } from './support/platform.ts';

/**
 * `@gatehouse/sdk` (packages/sdk) against the platform: its examples run
 * against a started node (a sale through the client, callbacks verified by
 * the example endpoint), every Gate endpoint is reached through the client,
 * and signatures interoperate with the npm `ecommpay` SDK both ways.
 */
interface EcommpaySdk {
  signer(message: unknown, secret: string): string;
  Callback: new (secret: string, body: unknown) => { isPaymentSuccess(): boolean; getPaymentId(): string };
  Payment: new (projectId: number | string, secret: string, params?: Record<string, unknown>, url?: string) => Record<string, unknown> & {
    params: Record<string, unknown>;
    getUrl(): string;
  };
}
const ecommpay = createRequire(import.meta.url)('ecommpay') as EcommpaySdk;

interface SignatureVector {
  name: string;
  secret: string;
  message: Record<string, unknown>;
  signature: string;
  payment_page_query?: string;
}
const vectors = (JSON.parse(readFileSync(new URL('../../shared/spec/signature-vectors.json', import.meta.url), 'utf8')) as { vectors: SignatureVector[] }).vectors;

let gh: TestPlatform;
let merchant: Project;
let endpoint: CallbackServer;
const received: Callback[] = [];
let sequence = 0;
const nextPaymentId = (label: string) => `sdk-${label}-${Date.now()}-${++sequence}`;

before(async () => {
  gh = await startTestPlatform();
  // The merchant's project sends its callbacks to the SDK's example endpoint, which needs the project's key.
  merchant = await createProject(gh.platform.context.pool, { name: 'sdk merchant', mode: 'test', callbackUrl: null });
  endpoint = await startCallbackServer({ secretKey: merchant.secretKey, onCallback: (callback) => void received.push(callback) });
  await gh.platform.context.pool.query('UPDATE projects SET callback_url = $2 WHERE id = $1', [String(merchant.id), endpoint.url]);
});
after(async () => {
  await endpoint?.close();
  await gh?.stop();
  await stopTestServer();
});

function client(secretKey = merchant.secretKey): GateClient {
  return new GateClient({ baseUrl: gh.baseUrl, projectId: Number(merchant.id), secretKey });
}

async function waitForCallback(predicate: (callback: Callback) => boolean, timeoutMs = 15_000): Promise<Callback> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = received.find(predicate);
    if (found) return found;
    await sleep(50);
  }
  throw new Error(`no matching callback within ${timeoutMs} ms; got ${JSON.stringify(received.map((callback) => [callback.payment.id, callback.operation.type, callback.operation.status]))}`);
}

async function approvedPurchase(kind: 'sale' | 'auth', paymentId: string, amountMinor = 1000): Promise<Callback> {
  if (kind === 'sale') {
    await startSale({ gateUrl: gh.baseUrl, projectId: Number(merchant.id), secretKey: merchant.secretKey, paymentId, amountMinor });
  } else {
    await client().auth({
      general: { payment_id: paymentId },
      payment: { amount: amountMinor, currency: 'USD' },
      customer: { id: 'customer-42', ip_address: '192.0.2.10' },
      return_url: { return: 'https://shop.example/back' },
    });
  }
  const intermediate = await waitForCallback((callback) => callback.payment.id === paymentId && callback.operation.code === '9999');
  assert.ok(intermediate.redirect_data, 'the intermediate callback carries the approval URL');
  await actAtApprovalPage(intermediate.redirect_data.url, 'approve');
  return waitForCallback((callback) => callback.payment.id === paymentId && isFinalCallback(callback));
}

describe('the SDK examples against a running node', () => {
  test('a sale through the SDK client; callbacks verified and typed by the SDK handler; status through the client', async () => {
    const paymentId = nextPaymentId('sale');
    const accepted = await startSale({ gateUrl: gh.baseUrl, projectId: Number(merchant.id), secretKey: merchant.secretKey, paymentId });
    assert.equal(accepted.status, 'success');
    assert.equal(accepted.payment_id, paymentId);
    assert.equal(accepted.project_id, Number(merchant.id));

    const intermediate = await waitForCallback((callback) => callback.payment.id === paymentId && callback.operation.code === '9999');
    assert.equal(isFinalCallback(intermediate), false);
    assert.equal(intermediate.operation.request_id, accepted.request_id);
    assert.equal(intermediate.redirect_data?.method, 'GET');
    await actAtApprovalPage(intermediate.redirect_data!.url, 'approve');
    const final = await waitForCallback((callback) => callback.payment.id === paymentId && isFinalCallback(callback));
    assert.equal(final.payment.status, 'success');
    assert.equal(final.operation.type, 'sale');
    assert.equal(final.operation.code, '0');
    assert.deepEqual(final.payment.sum, { amount: 1000, currency: 'USD' });

    const status = await client().status(paymentId);
    assert.equal(status.payment.status, 'success');
    assert.deepEqual(status.operations.map((operation) => operation.type), ['sale']);

    // The example's retry path: the same payment id again answers 3041, and the example falls back to the status.
    const again = await startSale({ gateUrl: gh.baseUrl, projectId: Number(merchant.id), secretKey: merchant.secretKey, paymentId });
    assert.equal(again.payment_id, paymentId);
  });

  test('refusals are GateRequestError with the registry code; a wrong key is 3261', async () => {
    await assert.rejects(client('not-the-key').status('whatever'), (error: unknown) => {
      assert.ok(error instanceof GateRequestError);
      assert.equal(error.code, '3261');
      assert.equal(error.httpStatus, 401);
      assert.match(error.requestId ?? '', /^[0-9a-f]+-\d+$/);
      return true;
    });
    await assert.rejects(client().status('never-created'), (error: unknown) => error instanceof GateRequestError && error.code === '3061');
  });

  test('every Gate endpoint through the client: auth, capture, cancel, refund, payout, recurring, recurring/cancel', async () => {
    const gate = client();
    const authId = nextPaymentId('auth');
    const authorized = await approvedPurchase('auth', authId);
    assert.equal(authorized.payment.status, 'awaiting capture');
    await gate.capture({ general: { payment_id: authId } });
    const captured = await waitForCallback((callback) => callback.payment.id === authId && callback.operation.type === 'capture' && isFinalCallback(callback));
    assert.equal(captured.payment.status, 'success');

    await assert.rejects(gate.cancel({ general: { payment_id: authId } }), (error: unknown) => error instanceof GateRequestError && error.code === '3060');

    await gate.refund({ general: { payment_id: authId }, payment: { description: 'partial', amount: 400, currency: 'USD' } });
    const refunded = await waitForCallback((callback) => callback.payment.id === authId && callback.operation.type === 'refund' && isFinalCallback(callback));
    assert.equal(refunded.payment.status, 'partially refunded');
    assert.deepEqual(refunded.payment.sum, { amount: 600, currency: 'USD' });

    const payoutId = nextPaymentId('payout');
    await gate.payout({
      general: { payment_id: payoutId },
      payment: { amount: 700, currency: 'USD', description: 'Payout' },
      customer: { id: 'customer-42', ip_address: '192.0.2.10' },
      account: { number: 'receiver@example.com' },
    });
    const paidOut = await waitForCallback((callback) => callback.payment.id === payoutId && isFinalCallback(callback));
    assert.equal(paidOut.payment.type, 'payout');

    await assert.rejects(
      gate.recurring({ general: { payment_id: nextPaymentId('debit') }, payment: { amount: 100, currency: 'USD' }, customer: { ip_address: '192.0.2.10' }, recurring: { id: 999_999 } }),
      (error: unknown) => error instanceof GateRequestError && error.code === '3182',
    );
    await assert.rejects(
      gate.recurringCancel({ general: { payment_id: nextPaymentId('stop') }, recurring: { id: 999_999 } }),
      (error: unknown) => error instanceof GateRequestError && error.code === '3182',
    );
  });

  test('the Payment Page example URL opens the page on the node', async () => {
    const url = checkoutUrl({ paymentPageBaseUrl: gh.baseUrl, projectId: Number(merchant.id), secretKey: merchant.secretKey, paymentId: nextPaymentId('page') });
    assert.match(url, new RegExp(`^${gh.baseUrl}/payment\\?project_id=${merchant.id}&payment_id=`));
    const page = await fetch(url);
    assert.equal(page.status, 200, await page.text());
    const tampered = await fetch(url.replace('payment_amount=2500', 'payment_amount=1'));
    assert.notEqual(tampered.status, 200);
  });
});

describe('signatures', () => {
  test('the SDK reproduces the published SDK vectors and the platform strings to sign', () => {
    for (const vector of vectors) {
      assert.equal(sign(vector.message, vector.secret), vector.signature, vector.name);
      assert.equal(verify(vector.message, vector.signature, vector.secret), true, vector.name);
      assert.equal(verify(vector.message, vector.signature, 'another key'), false, vector.name);
      if (vector.payment_page_query) {
        assert.equal(verifyPaymentPageParams(Object.fromEntries(new URLSearchParams(vector.payment_page_query)), vector.secret), true, vector.name);
      }
    }
    const awkward = { items: Array.from({ length: 12 }, (_, index) => ({ n: index })), 'a-b': 1, a: { x: 2 }, 'k:ey': true, empty: {}, nothing: null, frame_mode: 'x' };
    for (const ordering of ORDERINGS) assert.equal(sdkStringToSign(awkward, ordering), platformStringToSign(awkward, ordering), ordering);
  });

  test('SDK-signed Gate requests verify on the platform, with either key of a rotation', () => {
    const body = { general: { project_id: 7, payment_id: 'p-1' }, payment: { amount: 1, currency: 'USD' } };
    const signed = signGateRequest(body, 'current');
    assert.equal(verifyGateRequest(signed, ['current', 'previous']), 'ok');
    assert.equal(verifyGateRequest(signed, ['other']), 'invalid');
  });

  test('callbacks: ecommpay-signed ones verify with the SDK, SDK-signed ones with ecommpay, also on arrays of more than ten items', async () => {
    const platformCallback = received[0] ?? (await waitForCallback(() => true));
    const { signature: _signature, ...unsigned } = platformCallback as unknown as Record<string, unknown>;
    const awkward = { ...unsigned, items: Array.from({ length: 12 }, (_, index) => `item-${index}`) };
    for (const message of [unsigned, awkward]) {
      const byEcommpay = { ...message, signature: ecommpay.signer(message, merchant.secretKey) };
      const parsed = parseCallback(JSON.stringify(byEcommpay), merchant.secretKey);
      assert.equal(parsed.payment.id, platformCallback.payment.id);

      const bySdk = signCallback(message, merchant.secretKey);
      const checked = new ecommpay.Callback(merchant.secretKey, JSON.parse(JSON.stringify(bySdk)));
      assert.equal(checked.getPaymentId(), platformCallback.payment.id);
    }
    // Every callback the platform sent verifies with the npm SDK too.
    for (const callback of received) new ecommpay.Callback(merchant.secretKey, JSON.parse(JSON.stringify(callback)));
  });

  test('the callback handler refuses forged, tampered and malformed bodies, and accepts the previous key during a rotation', () => {
    const body = signCallback({ project_id: 1, payment: { id: 'p', status: 'success' }, operation: { id: 5, status: 'success', code: '0' } }, 'old-key');
    assert.throws(() => parseCallback(body, 'new-key'), CallbackSignatureError);
    assert.equal(createCallbackHandler({ secretKey: 'new-key', previousSecretKey: 'old-key' }).parse(body).operation.id, 5);
    assert.throws(() => parseCallback({ ...body, payment: { id: 'p', status: 'decline' } }, 'old-key'), CallbackSignatureError);
    assert.throws(() => parseCallback('{not json', 'old-key'), CallbackFormatError);
    assert.throws(() => parseCallback(signCallback({ project_id: 1 }, 'old-key'), 'old-key'), CallbackFormatError);
    assert.equal(parseCallback(new TextEncoder().encode(JSON.stringify(body)), 'old-key').payment.id, 'p');
  });

  test('Payment Page URLs: the same query and signature as the npm SDK builds', () => {
    const params = { payment_id: 'order-7', payment_amount: 1500, payment_currency: 'EUR', customer_id: 'c 42&x', interface_type: JSON.stringify({ id: 22 }) };
    const ours = new URL(paymentPageUrl({ baseUrl: 'https://pay.example/', projectId: 112, secretKey: 'my_secret', params }));
    const theirs = new URL(new ecommpay.Payment('112', 'my_secret', params, 'https://pay.example').getUrl());
    assert.equal(ours.pathname, '/payment');
    assert.deepEqual(Object.fromEntries(ours.searchParams), Object.fromEntries(theirs.searchParams));
    assert.equal(verifyPaymentPageParams(Object.fromEntries(ours.searchParams), 'my_secret'), true);
  });
});
