/*
 * The PayPal connector, in three layers:
 *   1. pure transformers: every status of every closed union maps, unknown throws;
 *   2. HTTP plumbing against a scripted `fetch`: token cache, 401 renewal,
 *      classification of 4xx/5xx/timeouts/garbage, and no secret in any error;
 *   3. integration against the platform's PayPal sandbox on real PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createServer } from 'node:net';
import { inspect } from 'node:util';
import Fastify, { type FastifyInstance } from 'fastify';
import { paypalSandboxPlugin } from '../src/sandbox/paypal/index.ts';
import { createTestDatabase, stopTestServer, type TestDatabase } from './support/database.ts';
import { Secret } from '../src/domain/secret.ts';
import {
  PAYPAL_AUTHORIZATION_STATUSES,
  PAYPAL_CAPTURE_STATUSES,
  PAYPAL_ORDER_STATUSES,
  PAYPAL_PAYOUT_BATCH_STATUSES,
  PAYPAL_PAYOUT_ITEM_STATUSES,
  PAYPAL_REFUND_STATUSES,
  PaypalClient,
  ProviderAuthenticationError,
  ProviderNotFoundError,
  ProviderUnavailableError,
  UnknownProviderStatusError,
  type CaptureResult,
} from '../src/connectors/paypal/index.ts';
import {
  authorizationOutcome,
  buildCreateOrderBody,
  buildPayoutBody,
  buildVerifyWebhookBody,
  captureOutcome,
  declineReasonFromErrorBody,
  orderOutcome,
  parseAuthorizationStatus,
  parseCaptureStatus,
  parseOrderStatus,
  parsePayoutBatchStatus,
  parsePayoutItemStatus,
  parseRefundStatus,
  payoutBatchOutcome,
  payoutItemOutcome,
  recipientTypeFor,
  refundOutcome,
  toAuthorizationResultFromOrder,
  toCaptureResult,
  toCaptureResultFromOrder,
  toOrderResult,
  toPayoutResultFromBatch,
  toPayoutResultFromItem,
  toRefundResult,
  toVoidResult,
  voidOutcome,
} from '../src/connectors/paypal/transformers.ts';
import { MalformedProviderResponseError } from '../src/connectors/paypal/errors.ts';

const CLIENT_SECRET_VALUE = 'sk-test-very-secret-0f3c9a';

/** Asserts that nothing a log line could take from an error reveals a credential or token. */
function assertNoSecretIn(error: unknown, ...secrets: string[]): void {
  const views = [
    String(error),
    error instanceof Error ? (error.stack ?? '') : '',
    error instanceof Error ? error.message : '',
    JSON.stringify(error),
    inspect(error, { depth: 10, showHidden: true }),
  ];
  for (const secret of secrets) {
    for (const view of views) assert.ok(!view.includes(secret), `a secret leaked into an error view: ${view.slice(0, 200)}`);
  }
}

// ===========================================================================
// 0. Secret
// ===========================================================================

describe('Secret', () => {
  test('prints as *** everywhere, reveals only on request', () => {
    const secret = new Secret('hunter2');
    assert.equal(String(secret), '***');
    assert.equal(`${secret}`, '***');
    assert.equal(JSON.stringify({ secret }), '{"secret":"***"}');
    assert.equal(inspect(secret), '***');
    assert.equal(inspect({ nested: { secret } }, { showHidden: true }).includes('hunter2'), false);
    assert.deepEqual(Object.keys(secret), []);
    assert.equal(secret.reveal(), 'hunter2');
    assert.equal(secret.isEmpty(), false);
    assert.equal(new Secret('').isEmpty(), true);
  });
});

// ===========================================================================
// 1. Pure transformers
// ===========================================================================

describe('status classification (closed unions)', () => {
  test('every order status maps; COMPLETED is decided by the payment inside', () => {
    const expected = { CREATED: 'action_required', SAVED: 'action_required', PAYER_ACTION_REQUIRED: 'action_required', APPROVED: 'approved', VOIDED: 'decline' } as const;
    for (const status of PAYPAL_ORDER_STATUSES) {
      assert.equal(parseOrderStatus(status), status);
      if (status === 'COMPLETED') continue;
      assert.equal(orderOutcome(status), expected[status], status);
    }
  });

  test('every capture status maps', () => {
    const expected = { COMPLETED: 'success', REFUNDED: 'success', PARTIALLY_REFUNDED: 'success', PENDING: 'pending', DECLINED: 'decline', FAILED: 'decline' } as const;
    for (const status of PAYPAL_CAPTURE_STATUSES) assert.equal(captureOutcome(parseCaptureStatus(status)), expected[status], status);
  });

  test('every authorization status maps, for auth and for void', () => {
    const forAuth = { CREATED: 'success', CAPTURED: 'success', PARTIALLY_CAPTURED: 'success', PENDING: 'pending', DENIED: 'decline', VOIDED: 'decline', EXPIRED: 'decline' } as const;
    const forVoid = { VOIDED: 'success', CREATED: 'pending', PENDING: 'pending', CAPTURED: 'decline', PARTIALLY_CAPTURED: 'decline', DENIED: 'decline', EXPIRED: 'decline' } as const;
    for (const status of PAYPAL_AUTHORIZATION_STATUSES) {
      assert.equal(authorizationOutcome(parseAuthorizationStatus(status)), forAuth[status], status);
      assert.equal(voidOutcome(status), forVoid[status], status);
    }
  });

  test('every refund status maps', () => {
    const expected = { COMPLETED: 'success', PENDING: 'pending', FAILED: 'decline', CANCELLED: 'decline' } as const;
    for (const status of PAYPAL_REFUND_STATUSES) assert.equal(refundOutcome(parseRefundStatus(status)), expected[status], status);
  });

  test('every payout item and batch status maps', () => {
    const items = {
      SUCCESS: 'success', PENDING: 'pending', UNCLAIMED: 'pending', ONHOLD: 'pending', NEW: 'pending',
      FAILED: 'decline', RETURNED: 'decline', BLOCKED: 'decline', REFUNDED: 'decline', REVERSED: 'decline', DENIED: 'decline',
    } as const;
    for (const status of PAYPAL_PAYOUT_ITEM_STATUSES) assert.equal(payoutItemOutcome(parsePayoutItemStatus(status)), items[status], status);
    const batches = { NEW: 'pending', PENDING: 'pending', PROCESSING: 'pending', SUCCESS: 'pending', DENIED: 'decline', CANCELED: 'decline' } as const;
    for (const status of PAYPAL_PAYOUT_BATCH_STATUSES) assert.equal(payoutBatchOutcome(parsePayoutBatchStatus(status)), batches[status], status);
  });

  test('an unknown status is an error, never a silent pending', () => {
    const parsers = [parseOrderStatus, parseCaptureStatus, parseAuthorizationStatus, parseRefundStatus, parsePayoutItemStatus, parsePayoutBatchStatus];
    for (const parse of parsers) {
      for (const value of ['IN_PROGRESS', 'completed', '', undefined, 7, null]) {
        assert.throws(() => parse(value), UnknownProviderStatusError);
      }
    }
    assert.throws(
      () => toCaptureResult({ id: 'CAP1', status: 'SETTLING' }),
      (error: unknown) => error instanceof UnknownProviderStatusError && error.resource === 'capture' && error.providerStatus === 'SETTLING',
    );
    assert.throws(() => toOrderResult({ id: 'O1', status: 'ALMOST_DONE' }), UnknownProviderStatusError);
  });
});

const ORDER_ID = '5O190127TN364715T';

function orderBody(status: string, payments?: Record<string, unknown>, intent = 'CAPTURE'): Record<string, unknown> {
  return {
    id: ORDER_ID,
    intent,
    status,
    payment_source: {
      paypal: {
        email_address: 'buyer@example.com',
        account_id: 'QYR5Z8XDVJNXQ',
        name: { given_name: 'John', surname: 'Doe' },
        address: { country_code: 'US' },
        attributes: { vault: { id: 'VAULT1', status: 'VAULTED', customer: { id: 'CUST1' } } },
      },
    },
    purchase_units: [
      { reference_id: 'payment-42', custom_id: 'p7:42', amount: { currency_code: 'USD', value: '10.00' }, ...(payments ? { payments } : {}) },
    ],
    payer: { name: { given_name: 'John', surname: 'Doe' }, email_address: 'buyer@example.com', payer_id: 'QYR5Z8XDVJNXQ' },
    create_time: '2024-01-01T00:00:00Z',
    update_time: '2024-01-01T00:01:00Z',
    links: [
      { href: `https://api-m.paypal.com/v2/checkout/orders/${ORDER_ID}`, rel: 'self', method: 'GET' },
      { href: `https://www.paypal.com/checkoutnow?token=${ORDER_ID}`, rel: 'payer-action', method: 'GET' },
    ],
  };
}

function captureBody(status: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'CAP1',
    status,
    amount: { currency_code: 'USD', value: '10.00' },
    final_capture: true,
    create_time: '2024-01-01T00:02:00Z',
    links: [{ href: `https://api-m.paypal.com/v2/checkout/orders/${ORDER_ID}`, rel: 'up', method: 'GET' }],
    ...extra,
  };
}

describe('responses to results', () => {
  test('a new order needs the customer: action_required with the payer-action link', () => {
    const result = toOrderResult(orderBody('PAYER_ACTION_REQUIRED'));
    assert.equal(result.outcome, 'action_required');
    assert.equal(result.orderId, ORDER_ID);
    assert.equal(result.approveUrl, `https://www.paypal.com/checkoutnow?token=${ORDER_ID}`);
    assert.equal(result.referenceId, 'payment-42');
    assert.deepEqual(result.amount, { currencyCode: 'USD', value: '10.00' });
  });

  test('the legacy approve link is found too', () => {
    const body = orderBody('CREATED');
    body.links = [{ href: 'https://www.paypal.com/checkoutnow?token=X', rel: 'approve', method: 'GET' }];
    assert.equal(toOrderResult(body).approveUrl, 'https://www.paypal.com/checkoutnow?token=X');
  });

  test('an approved order carries the payer and the vault', () => {
    const result = toOrderResult(orderBody('APPROVED'));
    assert.equal(result.outcome, 'approved');
    assert.deepEqual(result.payer, { email: 'buyer@example.com', givenName: 'John', surname: 'Doe', payerId: 'QYR5Z8XDVJNXQ', countryCode: 'US' });
    assert.equal(result.vaultId, 'VAULT1');
    assert.equal(result.vaultStatus, 'VAULTED');
    assert.equal(result.vaultCustomerId, 'CUST1');
  });

  test('a voided order is a decline with a reason', () => {
    const result = toOrderResult(orderBody('VOIDED'));
    assert.equal(result.outcome, 'decline');
    assert.equal(result.declineReason?.issue, 'VOIDED');
    assert.equal(result.declineReason?.source, 'provider_status');
  });

  test('a completed order is as good as its capture or authorization', () => {
    assert.equal(toOrderResult(orderBody('COMPLETED', { captures: [captureBody('COMPLETED')] })).outcome, 'success');
    assert.equal(toOrderResult(orderBody('COMPLETED', { captures: [captureBody('PENDING')] })).outcome, 'pending');
    const declined = toOrderResult(orderBody('COMPLETED', { captures: [captureBody('DECLINED', { status_details: { reason: 'DECLINED_BY_RISK_FRAUD_FILTERS' } })] }));
    assert.equal(declined.outcome, 'decline');
    assert.equal(declined.declineReason?.issue, 'DECLINED_BY_RISK_FRAUD_FILTERS');
    const held = toOrderResult(orderBody('COMPLETED', { authorizations: [{ id: 'AUTH1', status: 'CREATED', expiration_time: '2024-01-30T00:00:00Z' }] }, 'AUTHORIZE'));
    assert.equal(held.outcome, 'success');
    assert.equal(held.authorization?.authorizationId, 'AUTH1');
    assert.equal(held.authorization?.expirationTime, '2024-01-30T00:00:00Z');
    assert.throws(() => toOrderResult(orderBody('COMPLETED')), MalformedProviderResponseError);
  });

  test('a capture of an order: ids, payer, vault, pending reason', () => {
    const result = toCaptureResultFromOrder(orderBody('COMPLETED', { captures: [captureBody('PENDING', { status_details: { reason: 'PENDING_REVIEW' } })] }));
    assert.equal(result.outcome, 'pending');
    assert.equal(result.captureId, 'CAP1');
    assert.equal(result.orderId, ORDER_ID);
    assert.equal(result.statusReason, 'PENDING_REVIEW');
    assert.equal(result.vaultId, 'VAULT1');
    assert.equal(result.payer?.payerId, 'QYR5Z8XDVJNXQ');
    assert.throws(() => toCaptureResultFromOrder(orderBody('COMPLETED')), MalformedProviderResponseError);
  });

  test('a capture of a hold names the authorization from its up link', () => {
    const result = toCaptureResult(captureBody('COMPLETED', { links: [{ rel: 'up', href: 'https://api-m.paypal.com/v2/payments/authorizations/AUTH9', method: 'GET' }] }));
    assert.equal(result.outcome, 'success');
    assert.equal(result.authorizationId, 'AUTH9');
    assert.equal(result.orderId, undefined);
  });

  test('an authorization inside an order', () => {
    const result = toAuthorizationResultFromOrder(orderBody('COMPLETED', { authorizations: [{ id: 'AUTH1', status: 'DENIED' }] }, 'AUTHORIZE'));
    assert.equal(result.outcome, 'decline');
    assert.equal(result.authorizationId, 'AUTH1');
    assert.equal(result.declineReason?.issue, 'DENIED');
  });

  test('a void answered 204 is a success; with a body the status decides', () => {
    assert.deepEqual(toVoidResult(undefined, 'AUTH1'), { outcome: 'success', providerStatus: 'VOIDED', authorizationId: 'AUTH1', raw: null });
    assert.equal(toVoidResult({ id: 'AUTH1', status: 'VOIDED' }, 'AUTH1').outcome, 'success');
    assert.equal(toVoidResult({ id: 'AUTH1', status: 'CAPTURED' }, 'AUTH1').outcome, 'decline');
  });

  test('refunds', () => {
    const refund = toRefundResult({
      id: 'REF1', status: 'COMPLETED', amount: { currency_code: 'USD', value: '2.50' },
      links: [{ rel: 'up', href: 'https://api-m.paypal.com/v2/payments/captures/CAP1', method: 'GET' }],
    });
    assert.equal(refund.outcome, 'success');
    assert.equal(refund.captureId, 'CAP1');
    assert.deepEqual(refund.amount, { currencyCode: 'USD', value: '2.50' });
    const failed = toRefundResult({ id: 'REF2', status: 'FAILED', status_details: { reason: 'ECHECK' } });
    assert.equal(failed.outcome, 'decline');
    assert.equal(failed.declineReason?.issue, 'ECHECK');
  });

  test('payouts: the item decides; a batch without items is pending or denied', () => {
    const created = toPayoutResultFromBatch({ batch_header: { payout_batch_id: 'B1', batch_status: 'PENDING', sender_batch_header: { sender_batch_id: 'sb-1' } } });
    assert.equal(created.outcome, 'pending');
    assert.equal(created.batchId, 'B1');
    assert.equal(created.senderBatchId, 'sb-1');
    assert.equal(created.itemStatus, undefined);
    assert.equal(toPayoutResultFromBatch({ batch_header: { payout_batch_id: 'B1', batch_status: 'DENIED' } }).outcome, 'decline');
    const item = {
      payout_item_id: 'I1', payout_batch_id: 'B1', transaction_status: 'FAILED', transaction_id: 'T1',
      payout_item: { receiver: 'nobody@example.com', amount: { value: '10.00', currency: 'GBP' }, sender_item_id: 'si-1' },
      errors: { name: 'RECEIVER_UNREGISTERED', message: 'Receiver is unregistered' },
    };
    const failed = toPayoutResultFromBatch({ batch_header: { payout_batch_id: 'B1', batch_status: 'SUCCESS' }, items: [item] });
    assert.equal(failed.outcome, 'decline');
    assert.equal(failed.declineReason?.issue, 'RECEIVER_UNREGISTERED');
    assert.equal(failed.payoutItemId, 'I1');
    assert.deepEqual(failed.amount, { currencyCode: 'GBP', value: '10.00' });
    const paid = toPayoutResultFromItem({ ...item, transaction_status: 'SUCCESS', errors: undefined });
    assert.equal(paid.outcome, 'success');
    assert.equal(paid.batchId, 'B1');
    assert.equal(paid.batchStatus, undefined);
  });

  test('PayPal error bodies become decline reasons', () => {
    const reason = declineReasonFromErrorBody(
      { name: 'UNPROCESSABLE_ENTITY', message: 'The requested action could not be performed', debug_id: 'dbg1', details: [{ issue: 'INSTRUMENT_DECLINED', description: 'The instrument presented was declined.' }] },
      422,
    );
    assert.deepEqual(reason, { issue: 'INSTRUMENT_DECLINED', description: 'The instrument presented was declined.', source: 'http_error', httpStatus: 422, debugId: 'dbg1' });
    assert.equal(declineReasonFromErrorBody({ name: 'INSUFFICIENT_FUNDS', message: 'Sender has insufficient funds.' }, 422)?.issue, 'INSUFFICIENT_FUNDS');
    assert.equal(declineReasonFromErrorBody('<html>', 400), undefined);
    assert.equal(declineReasonFromErrorBody({ unrelated: true }, 400), undefined);
  });
});

describe('request bodies', () => {
  test('a customer-present order asks for approval with our return URLs', () => {
    const body = buildCreateOrderBody({
      requestId: 'r1', intent: 'AUTHORIZE', amount: { currencyCode: 'EUR', value: '10.50' }, referenceId: 'payment-1',
      description: 'Order 1', customId: 'c1', returnUrl: 'https://shop.example/ok', cancelUrl: 'https://shop.example/cancel',
      payer: { email: 'a@b.example', givenName: 'Ann', countryCode: 'DE' }, vault: { storeInVault: true, customerId: 'CUST1' },
    });
    assert.deepEqual(body, {
      intent: 'AUTHORIZE',
      purchase_units: [{ reference_id: 'payment-1', description: 'Order 1', custom_id: 'c1', amount: { currency_code: 'EUR', value: '10.50' } }],
      payment_source: {
        paypal: {
          experience_context: { return_url: 'https://shop.example/ok', cancel_url: 'https://shop.example/cancel', user_action: 'PAY_NOW', shipping_preference: 'NO_SHIPPING' },
          email_address: 'a@b.example',
          name: { given_name: 'Ann' },
          address: { country_code: 'DE' },
          attributes: {
            customer: { id: 'CUST1' },
            vault: { store_in_vault: 'ON_SUCCESS', usage_type: 'MERCHANT', customer_type: 'CONSUMER', permit_multiple_payment_tokens: false },
          },
        },
      },
    });
  });

  test('a saved wallet needs no return URL', () => {
    const body = buildCreateOrderBody({ requestId: 'r1', intent: 'CAPTURE', amount: { currencyCode: 'JPY', value: '1500' }, referenceId: 'p', vaultId: 'V1' });
    assert.deepEqual(body.payment_source, { paypal: { vault_id: 'V1' } });
  });

  test('invalid inputs are refused before anything is sent', () => {
    const base = { requestId: 'r1', intent: 'CAPTURE' as const, referenceId: 'p', returnUrl: 'https://x.example' };
    assert.throws(() => buildCreateOrderBody({ ...base, amount: { currencyCode: 'usd', value: '1.00' } }), RangeError);
    assert.throws(() => buildCreateOrderBody({ ...base, amount: { currencyCode: 'USD', value: '1,00' } }), RangeError);
    assert.throws(() => buildCreateOrderBody({ ...base, amount: { currencyCode: 'USD', value: '-1.00' } }), RangeError);
    assert.throws(() => buildCreateOrderBody({ ...base, returnUrl: undefined, amount: { currencyCode: 'USD', value: '1.00' } }), RangeError);
  });

  test('payouts: email receivers are EMAIL, others PAYPAL_ID; Payouts v1 says currency', () => {
    assert.equal(recipientTypeFor('someone@example.com'), 'EMAIL');
    assert.equal(recipientTypeFor('DHEV3UAE54T3G'), 'PAYPAL_ID');
    const body = buildPayoutBody({ requestId: 'r', senderBatchId: 'sb', senderItemId: 'si', amount: { currencyCode: 'GBP', value: '10.00' }, receiver: 'DHEV3UAE54T3G', note: 'n' });
    assert.deepEqual(body, {
      sender_batch_header: { sender_batch_id: 'sb' },
      items: [{ recipient_type: 'PAYPAL_ID', amount: { value: '10.00', currency: 'GBP' }, receiver: 'DHEV3UAE54T3G', note: 'n', sender_item_id: 'si' }],
    });
  });

  test('webhook verification embeds the raw event byte for byte and needs every header', () => {
    const headers = {
      'PAYPAL-AUTH-ALGO': 'SHA256withRSA', 'paypal-cert-url': 'https://example/cert.pem', 'paypal-transmission-id': 't1',
      'paypal-transmission-sig': 'sig', 'paypal-transmission-time': '2024-01-01T00:00:00Z',
    };
    const raw = '{"id":"WH-1",  "resource":{"amount":{"value":"10.10"}}}';
    const text = buildVerifyWebhookBody({ webhookId: 'WH', headers, event: raw });
    assert.ok(text?.endsWith(`"webhook_event":${raw}}`));
    assert.deepEqual(JSON.parse(text!), {
      auth_algo: 'SHA256withRSA', cert_url: 'https://example/cert.pem', transmission_id: 't1', transmission_sig: 'sig',
      transmission_time: '2024-01-01T00:00:00Z', webhook_id: 'WH', webhook_event: JSON.parse(raw),
    });
    assert.equal(buildVerifyWebhookBody({ webhookId: 'WH', headers: { ...headers, 'paypal-transmission-sig': undefined }, event: raw }), undefined);
    assert.equal(buildVerifyWebhookBody({ webhookId: 'WH', headers, event: 'not json' }), undefined);
  });
});

// ===========================================================================
// 2. HTTP plumbing against a scripted fetch
// ===========================================================================

interface RecordedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

type Responder = (request: RecordedRequest, signal: AbortSignal) => Promise<Response> | Response;

function scriptedFetch(responder: Responder): { fetch: typeof fetch; requests: RecordedRequest[] } {
  const requests: RecordedRequest[] = [];
  const fake = (async (input: string | URL | Request, init?: RequestInit) => {
    const request: RecordedRequest = {
      url: String(input),
      method: init?.method ?? 'GET',
      headers: Object.fromEntries(new Headers(init?.headers).entries()),
      body: typeof init?.body === 'string' ? init.body : undefined,
    };
    requests.push(request);
    return responder(request, init!.signal!);
  }) as typeof fetch;
  return { fetch: fake, requests };
}

/**
 * A server that never answers. AbortSignal.timeout's timer does not keep the
 * event loop alive (a real socket would), so a ref'd timer stands in for it.
 */
function stallUntilAborted(signal: AbortSignal): Promise<Response> {
  return new Promise<Response>((_resolve, reject) => {
    const socketStandIn = setTimeout(() => reject(new Error('the client never timed out')), 10_000);
    signal.addEventListener('abort', () => {
      clearTimeout(socketStandIn);
      reject(signal.reason);
    });
  });
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

const tokenAnswer = (token: string, expiresIn = 32_400): Response => json(200, { access_token: token, token_type: 'Bearer', expires_in: expiresIn });

function stubClient(responder: Responder, options: { timeoutMs?: number; now?: () => number } = {}) {
  const scripted = scriptedFetch(responder);
  const client = new PaypalClient(
    { baseUrl: 'https://paypal.test/base/', clientId: 'client-1', clientSecret: new Secret(CLIENT_SECRET_VALUE) },
    { fetch: scripted.fetch, ...options },
  );
  return { client, requests: scripted.requests };
}

const apiRequests = (requests: RecordedRequest[]) => requests.filter((request) => !request.url.endsWith('/v1/oauth2/token'));

describe('HTTP plumbing (scripted fetch)', () => {
  test('token request, headers on POST, base URL with a path prefix', async () => {
    let tokens = 0;
    const { client, requests } = stubClient((request) => {
      if (request.url.endsWith('/v1/oauth2/token')) return tokenAnswer(`token-${++tokens}`);
      return json(201, captureBody('COMPLETED'), { 'paypal-debug-id': 'dbg-h' });
    });
    const result = await client.captureAuthorization({ authorizationId: 'AUTH 1', requestId: 'req-1', amount: { currencyCode: 'USD', value: '1.00' } });
    assert.equal(result.outcome, 'success');
    assert.equal(result.debugId, 'dbg-h');
    assert.equal(requests[0].url, 'https://paypal.test/base/v1/oauth2/token');
    assert.equal(requests[0].headers.authorization, `Basic ${Buffer.from(`client-1:${CLIENT_SECRET_VALUE}`).toString('base64')}`);
    assert.equal(requests[0].body, 'grant_type=client_credentials');
    const call = requests[1];
    assert.equal(call.url, 'https://paypal.test/base/v2/payments/authorizations/AUTH%201/capture');
    assert.equal(call.headers.authorization, 'Bearer token-1');
    assert.equal(call.headers['paypal-request-id'], 'req-1');
    assert.equal(call.headers.prefer, 'return=representation');
    assert.equal(call.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(call.body!), { amount: { currency_code: 'USD', value: '1.00' } });
  });

  test('the token is cached until shortly before expiry, and concurrent calls share one token request', async () => {
    let nowMs = 1_000_000;
    let tokens = 0;
    const { client, requests } = stubClient(
      async (request) => {
        if (request.url.endsWith('/v1/oauth2/token')) {
          await new Promise((resolve) => setTimeout(resolve, 5));
          return tokenAnswer(`token-${++tokens}`, 3600);
        }
        return json(200, captureBody('COMPLETED'));
      },
      { now: () => nowMs },
    );
    await Promise.all([client.getCapture('CAP1'), client.getCapture('CAP1'), client.getCapture('CAP1')]);
    assert.equal(tokens, 1);
    nowMs += 3_500_000; // 58 min 20 s: still before the renewal point (60 min - 60 s)
    await client.getCapture('CAP1');
    assert.equal(tokens, 1);
    nowMs += 50_000; // 59 min 10 s: inside the renewal margin
    await client.getCapture('CAP1');
    assert.equal(tokens, 2);
    assert.equal(apiRequests(requests).at(-1)?.headers.authorization, 'Bearer token-2');
  });

  test('a 401 renews the token once and repeats the call with the same request id', async () => {
    let tokens = 0;
    const { client, requests } = stubClient((request) => {
      if (request.url.endsWith('/v1/oauth2/token')) return tokenAnswer(`token-${++tokens}`);
      if (request.headers.authorization === 'Bearer token-1') return json(401, { error: 'invalid_token', error_description: 'Token signature verification failed' });
      return json(201, { id: 'REF1', status: 'COMPLETED' });
    });
    const refund = await client.refundCapture({ captureId: 'CAP1', requestId: 'refund-1' });
    assert.equal(refund.outcome, 'success');
    assert.equal(tokens, 2);
    assert.deepEqual(apiRequests(requests).map((request) => request.headers['paypal-request-id']), ['refund-1', 'refund-1']);
  });

  test('a second 401 is an authentication error; bad credentials too', async () => {
    const always401 = stubClient((request) =>
      request.url.endsWith('/v1/oauth2/token') ? tokenAnswer('t') : json(401, { error: 'invalid_token' }),
    );
    await assert.rejects(always401.client.getOrder('O1'), ProviderAuthenticationError);
    assert.equal(apiRequests(always401.requests).length, 2);

    const badCredentials = stubClient(() => json(401, { error: 'invalid_client', error_description: 'Client Authentication failed' }));
    const error = await badCredentials.client.getOrder('O1').catch((caught: unknown) => caught);
    assert.ok(error instanceof ProviderAuthenticationError);
    assert.equal(error.path, '/v1/oauth2/token');
    assertNoSecretIn(error, CLIENT_SECRET_VALUE, Buffer.from(`client-1:${CLIENT_SECRET_VALUE}`).toString('base64'));
  });

  test('422 and business 400s are declines; 404 is not found', async () => {
    const { client } = stubClient((request) => {
      if (request.url.endsWith('/v1/oauth2/token')) return tokenAnswer('t');
      if (request.url.includes('/orders/MISSING')) return json(404, { name: 'RESOURCE_NOT_FOUND', debug_id: 'dbg404', details: [{ issue: 'INVALID_RESOURCE_ID' }] });
      if (request.url.endsWith('/refund')) return json(400, { name: 'INVALID_REQUEST', message: 'Request is not well-formed', debug_id: 'dbg400', details: [{ issue: 'INVALID_PARAMETER_VALUE', description: 'bad' }] });
      return json(422, { name: 'UNPROCESSABLE_ENTITY', message: 'The requested action could not be performed', debug_id: 'dbg422', details: [{ issue: 'INSTRUMENT_DECLINED', description: 'The instrument presented was declined.' }] });
    });
    const declined = await client.captureOrder({ orderId: 'O1', requestId: 'c1' });
    assert.equal(declined.outcome, 'decline');
    assert.equal(declined.orderId, 'O1');
    assert.deepEqual(declined.declineReason, { issue: 'INSTRUMENT_DECLINED', description: 'The instrument presented was declined.', source: 'http_error', httpStatus: 422, debugId: 'dbg422' });
    const refund = await client.refundCapture({ captureId: 'CAP1', requestId: 'r1' });
    assert.equal(refund.outcome, 'decline');
    assert.equal(refund.declineReason?.issue, 'INVALID_PARAMETER_VALUE');
    const notFound = await client.getOrder('MISSING').catch((caught: unknown) => caught);
    assert.ok(notFound instanceof ProviderNotFoundError);
    assert.equal(notFound.debugId, 'dbg404');
    assert.equal(notFound.httpStatus, 404);
  });

  test('ORDER_ALREADY_CAPTURED returns the existing capture instead of a decline', async () => {
    const { client } = stubClient((request) => {
      if (request.url.endsWith('/v1/oauth2/token')) return tokenAnswer('t');
      if (request.method === 'GET') return json(200, orderBody('COMPLETED', { captures: [captureBody('COMPLETED')] }));
      return json(422, { name: 'UNPROCESSABLE_ENTITY', details: [{ issue: 'ORDER_ALREADY_CAPTURED', description: 'Order already captured.' }] });
    });
    const result = await client.captureOrder({ orderId: ORDER_ID, requestId: 'other-id' });
    assert.equal(result.outcome, 'success');
    assert.equal(result.captureId, 'CAP1');
  });

  test('5xx, 429, 409, network errors, garbage bodies and timeouts are ProviderUnavailableError', async () => {
    const cases: Array<{ name: string; respond: Responder; reason: string }> = [
      { name: '503', respond: () => json(503, { name: 'SERVICE_UNAVAILABLE', debug_id: 'dbg503' }), reason: 'http_status' },
      { name: '500 html', respond: () => new Response('<html>oops</html>', { status: 500 }), reason: 'http_status' },
      { name: '429', respond: () => json(429, { name: 'RATE_LIMIT_REACHED' }), reason: 'http_status' },
      { name: '409', respond: () => json(409, { name: 'RESOURCE_CONFLICT' }), reason: 'http_status' },
      { name: '200 html', respond: () => new Response('<html>proxy login</html>', { status: 200 }), reason: 'malformed_response' },
      { name: '201 without a capture', respond: () => json(201, { id: 'O1', status: 'COMPLETED', purchase_units: [{}] }), reason: 'malformed_response' },
      { name: '422 html', respond: () => new Response('nope', { status: 422 }), reason: 'malformed_response' },
      {
        name: 'connection refused',
        respond: () => {
          throw Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(`connect ECONNREFUSED (${CLIENT_SECRET_VALUE})`), { code: 'ECONNREFUSED' }) });
        },
        reason: 'network',
      },
      {
        name: 'timeout',
        respond: (_request, signal) => stallUntilAborted(signal),
        reason: 'timeout',
      },
    ];
    for (const scenario of cases) {
      const { client } = stubClient(
        (request, signal) => (request.url.endsWith('/v1/oauth2/token') ? tokenAnswer('access-token-xyz') : scenario.respond(request, signal)),
        { timeoutMs: 50 },
      );
      const error = await client.captureOrder({ orderId: 'O1', requestId: 'c1' }).catch((caught: unknown) => caught);
      assert.ok(error instanceof ProviderUnavailableError, `${scenario.name}: ${String(error)}`);
      assert.equal(error.reason, scenario.reason, scenario.name);
      assert.equal(error.method, 'POST');
      assert.equal(error.path, '/v2/checkout/orders/O1/capture');
      assertNoSecretIn(error, CLIENT_SECRET_VALUE, 'access-token-xyz');
    }
  });

  test('the token request itself is bounded by the timeout', async () => {
    const { client } = stubClient(
      (_request, signal) => stallUntilAborted(signal),
      { timeoutMs: 30 },
    );
    const error = await client.getOrder('O1').catch((caught: unknown) => caught);
    assert.ok(error instanceof ProviderUnavailableError);
    assert.equal(error.reason, 'timeout');
    assert.equal(error.path, '/v1/oauth2/token');
  });

  test('an unknown status in an answer is an UnknownProviderStatusError with the request context', async () => {
    const { client } = stubClient((request) =>
      request.url.endsWith('/v1/oauth2/token') ? tokenAnswer('t') : json(200, { id: 'REF1', status: 'REVERSING' }, { 'paypal-debug-id': 'dbgX' }),
    );
    const error = await client.getRefund('REF1').catch((caught: unknown) => caught);
    assert.ok(error instanceof UnknownProviderStatusError);
    assert.equal(error.providerStatus, 'REVERSING');
    assert.equal(error.path, '/v2/payments/refunds/REF1');
    assert.equal(error.debugId, 'dbgX');
  });

  test('deleting a vault token is idempotent; 204 void is a success', async () => {
    const { client } = stubClient((request) => {
      if (request.url.endsWith('/v1/oauth2/token')) return tokenAnswer('t');
      if (request.url.endsWith('/payment-tokens/GONE')) return json(404, { name: 'RESOURCE_NOT_FOUND' });
      return new Response(null, { status: 204 });
    });
    assert.deepEqual(await client.deletePaymentToken('V1'), { outcome: 'success', vaultId: 'V1', alreadyAbsent: false, raw: null });
    assert.equal((await client.deletePaymentToken('GONE')).alreadyAbsent, true);
    const voided = await client.voidAuthorization({ authorizationId: 'AUTH1', requestId: 'v1' });
    assert.equal(voided.outcome, 'success');
    assert.equal(voided.providerStatus, 'VOIDED');
  });

  test('the client and its credentials print without secrets', () => {
    const { client } = stubClient(() => tokenAnswer('t'));
    assert.ok(!JSON.stringify(client).includes(CLIENT_SECRET_VALUE));
    assert.ok(!inspect(client, { showHidden: true, depth: 5 }).includes(CLIENT_SECRET_VALUE));
  });

  test('result unions narrow on outcome (compile-time check)', () => {
    const useResult = (result: CaptureResult): string => {
      switch (result.outcome) {
        case 'success':
        case 'pending':
          return result.captureId; // required here
        case 'decline':
          return result.declineReason.issue; // required here
      }
    };
    assert.equal(useResult(toCaptureResult(captureBody('COMPLETED'))), 'CAP1');
  });
});

// ===========================================================================
// 3. Integration: the connector against the platform's PayPal sandbox
// ===========================================================================

const SANDBOX_CLIENT_ID = 'gatehouse-connector-test';
const SANDBOX_CLIENT_SECRET = 'sandbox-secret-7Yq2-do-not-print';
const SANDBOX_WEBHOOK_ID = 'WH-CONNECTOR-TEST';
const TIMEOUT_SCENARIO_DELAY_MS = 1_500;
const PENDING_COMPLETION_DELAY_MS = 300;

interface DeliveredWebhook {
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
  event: { id: string; event_type: string; resource: { id: string } & Record<string, unknown> };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Polls `probe` every 50 ms until it returns a value, at most `limitMs`. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, limitMs = 8_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const uniqueRequestId = (label: string) => `${label}-${Math.random().toString(36).slice(2)}-${Date.now().toString(36)}`;

describe('integration with the PayPal sandbox', () => {
  let database: TestDatabase;
  let app: FastifyInstance;
  let sandboxUrl: string;
  let paypal: PaypalClient;
  const webhooks: DeliveredWebhook[] = [];
  const bearerTokensSeen = new Set<string>();
  const caughtErrors: unknown[] = [];

  /** Runs a call that must fail, keeps the error for the final no-secret check. */
  async function failure(call: Promise<unknown>): Promise<unknown> {
    const error = await call.then(
      () => assert.fail('expected the call to fail'),
      (caught: unknown) => caught,
    );
    caughtErrors.push(error);
    return error;
  }

  const recordingFetch: typeof fetch = async (input, init) => {
    const authorization = new Headers(init?.headers).get('authorization');
    if (authorization?.startsWith('Bearer ')) bearerTokensSeen.add(authorization.slice('Bearer '.length));
    return fetch(input, init);
  };

  function newClient(options: { clientSecret?: string; timeoutMs?: number; fetch?: typeof fetch; now?: () => number } = {}): PaypalClient {
    return new PaypalClient(
      { baseUrl: sandboxUrl, clientId: SANDBOX_CLIENT_ID, clientSecret: new Secret(options.clientSecret ?? SANDBOX_CLIENT_SECRET) },
      { timeoutMs: options.timeoutMs ?? 5_000, fetch: options.fetch ?? recordingFetch, now: options.now },
    );
  }

  before(async () => {
    database = await createTestDatabase();
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    sandboxUrl = `${origin}/sandbox/paypal`;
    app = Fastify({ logger: process.env.PAYPAL_TEST_LOG ? { level: 'warn' } : false });
    // A webhook receiver that keeps the raw body, as a real one must for verification.
    await app.register(async (receiver) => {
      receiver.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => done(null, body));
      receiver.post('/test-webhooks/paypal', async (request, reply) => {
        const rawBody = request.body as string;
        webhooks.push({ headers: { ...request.headers }, rawBody, event: JSON.parse(rawBody) });
        return reply.code(200).send();
      });
    });
    await app.register(paypalSandboxPlugin, {
      prefix: '/sandbox/paypal',
      pool: database.pool,
      clientId: SANDBOX_CLIENT_ID,
      clientSecret: SANDBOX_CLIENT_SECRET,
      publicBaseUrl: sandboxUrl,
      webhookUrl: () => `${origin}/test-webhooks/paypal`,
      webhookId: SANDBOX_WEBHOOK_ID,
      timeoutScenarioDelayMs: TIMEOUT_SCENARIO_DELAY_MS,
      pendingCompletionDelayMs: PENDING_COMPLETION_DELAY_MS,
    });
    await app.listen({ port, host: '127.0.0.1' });
    paypal = newClient();
  });

  after(async () => {
    await app?.close();
    await database?.drop();
    await stopTestServer();
  });

  const usd = (value: string) => ({ currencyCode: 'USD', value });

  async function createCustomerOrder(intent: 'CAPTURE' | 'AUTHORIZE', value: string, extra: { vault?: { storeInVault: boolean } } = {}) {
    const order = await paypal.createOrder({
      requestId: uniqueRequestId('create'),
      intent,
      amount: usd(value),
      referenceId: uniqueRequestId('payment'),
      description: `test ${intent} ${value}`,
      customId: 'project-1',
      returnUrl: 'https://merchant.example/return',
      cancelUrl: 'https://merchant.example/cancel',
      payer: { email: 'buyer@example.com' },
      ...extra,
    });
    assert.equal(order.outcome, 'action_required', JSON.stringify(order.raw));
    assert.ok(order.approveUrl?.startsWith(`${sandboxUrl}/checkoutnow?token=`));
    return order;
  }

  /** What the customer's browser does on the approval page: post the form with action=approve. */
  async function approve(approveUrl: string, email = 'jane.doe@example.com'): Promise<URL> {
    const page = await fetch(approveUrl);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /name="action" value="approve"/);
    const response = await fetch(approveUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ action: 'approve', email }).toString(),
      redirect: 'manual',
    });
    assert.equal(response.status, 303);
    const location = new URL(response.headers.get('location')!);
    assert.equal(location.origin + location.pathname, 'https://merchant.example/return');
    assert.ok(location.searchParams.get('PayerID'));
    return location;
  }

  async function approvedOrder(intent: 'CAPTURE' | 'AUTHORIZE', value: string, extra: { vault?: { storeInVault: boolean } } = {}) {
    const order = await createCustomerOrder(intent, value, extra);
    const returned = await approve(order.approveUrl!);
    assert.equal(returned.searchParams.get('token'), order.orderId);
    return order.orderId!;
  }

  test('create → approve → capture, and a repeat with the same request id is the same capture', async () => {
    const created = await createCustomerOrder('CAPTURE', '10.00');
    assert.equal(created.providerStatus, 'PAYER_ACTION_REQUIRED');
    const returned = await approve(created.approveUrl!);

    const approved = await paypal.getOrder(created.orderId!);
    assert.equal(approved.outcome, 'approved');
    assert.equal(approved.payer?.email, 'jane.doe@example.com');
    assert.equal(approved.payer?.payerId, returned.searchParams.get('PayerID'));
    assert.deepEqual(approved.amount, usd('10.00'));

    const requestId = uniqueRequestId('capture');
    const capture = await paypal.captureOrder({ orderId: created.orderId!, requestId });
    assert.equal(capture.outcome, 'success');
    assert.equal(capture.providerStatus, 'COMPLETED');
    assert.equal(capture.orderId, created.orderId);
    assert.deepEqual(capture.amount, usd('10.00'));
    assert.equal(capture.payer?.email, 'jane.doe@example.com');
    assert.ok(capture.providerTime);

    const repeated = await paypal.captureOrder({ orderId: created.orderId!, requestId });
    assert.equal(repeated.outcome, 'success');
    assert.equal(repeated.captureId, capture.captureId);

    // A repeat with another request id meets ORDER_ALREADY_CAPTURED and still gets the one capture.
    const other = await paypal.captureOrder({ orderId: created.orderId!, requestId: uniqueRequestId('capture-again') });
    assert.equal(other.outcome, 'success');
    assert.equal(other.captureId, capture.captureId);

    const read = await paypal.getCapture(capture.captureId!);
    assert.equal(read.outcome, 'success');
    assert.equal(read.orderId, created.orderId);
    const completed = await paypal.getOrder(created.orderId!);
    assert.equal(completed.outcome, 'success');
    assert.equal(completed.capture?.captureId, capture.captureId);
  });

  test('capture before approval is a decline with ORDER_NOT_APPROVED', async () => {
    const created = await createCustomerOrder('CAPTURE', '10.00');
    const capture = await paypal.captureOrder({ orderId: created.orderId!, requestId: uniqueRequestId('capture') });
    assert.equal(capture.outcome, 'decline');
    assert.equal(capture.declineReason.issue, 'ORDER_NOT_APPROVED');
    assert.equal(capture.declineReason.httpStatus, 422);
    assert.ok(capture.declineReason.debugId);
    assert.equal(capture.orderId, created.orderId);
  });

  test('authorize → partial capture → final capture', async () => {
    const orderId = await approvedOrder('AUTHORIZE', '20.00');
    const hold = await paypal.authorizeOrder({ orderId, requestId: uniqueRequestId('authorize') });
    assert.equal(hold.outcome, 'success');
    assert.equal(hold.providerStatus, 'CREATED');
    assert.equal(hold.orderId, orderId);
    assert.ok(hold.expirationTime);

    const first = await paypal.captureAuthorization({ authorizationId: hold.authorizationId!, requestId: uniqueRequestId('cap'), amount: usd('5.00'), finalCapture: false });
    assert.equal(first.outcome, 'success');
    assert.equal(first.authorizationId, hold.authorizationId);
    assert.deepEqual(first.amount, usd('5.00'));
    assert.equal((await paypal.getAuthorization(hold.authorizationId!)).providerStatus, 'PARTIALLY_CAPTURED');

    const rest = await paypal.captureAuthorization({ authorizationId: hold.authorizationId!, requestId: uniqueRequestId('cap') });
    assert.equal(rest.outcome, 'success');
    assert.deepEqual(rest.amount, usd('15.00'));
    const captured = await paypal.getAuthorization(hold.authorizationId!);
    assert.equal(captured.providerStatus, 'CAPTURED');
    assert.equal(captured.outcome, 'success');
  });

  test('authorize → void', async () => {
    const orderId = await approvedOrder('AUTHORIZE', '20.00');
    const hold = await paypal.authorizeOrder({ orderId, requestId: uniqueRequestId('authorize') });
    assert.equal(hold.outcome, 'success');
    const requestId = uniqueRequestId('void');
    const voided = await paypal.voidAuthorization({ authorizationId: hold.authorizationId!, requestId });
    assert.equal(voided.outcome, 'success');
    assert.equal(voided.providerStatus, 'VOIDED');
    assert.equal((await paypal.voidAuthorization({ authorizationId: hold.authorizationId!, requestId })).outcome, 'success');
    const read = await paypal.getAuthorization(hold.authorizationId!);
    assert.equal(read.providerStatus, 'VOIDED');
    const again = await paypal.voidAuthorization({ authorizationId: hold.authorizationId!, requestId: uniqueRequestId('void') });
    assert.equal(again.outcome, 'decline');
    assert.equal(again.declineReason.issue, 'PREVIOUSLY_VOIDED');
  });

  test('scenario 06: capture of a hold declined; 07: void declined', async () => {
    const holdOf = async (value: string) => {
      const hold = await paypal.authorizeOrder({ orderId: await approvedOrder('AUTHORIZE', value), requestId: uniqueRequestId('authorize') });
      assert.equal(hold.outcome, 'success');
      return hold.authorizationId!;
    };
    const captureDeclined = await paypal.captureAuthorization({ authorizationId: await holdOf('10.06'), requestId: uniqueRequestId('cap') });
    assert.equal(captureDeclined.outcome, 'decline');
    assert.equal(captureDeclined.declineReason.source, 'http_error');
    assert.ok(captureDeclined.declineReason.issue);
    const voidDeclined = await paypal.voidAuthorization({ authorizationId: await holdOf('10.07'), requestId: uniqueRequestId('void') });
    assert.equal(voidDeclined.outcome, 'decline');
    assert.ok(voidDeclined.declineReason.issue);
  });

  test('partial refund, then a refund decline (scenario 04)', async () => {
    const capture = await paypal.captureOrder({ orderId: await approvedOrder('CAPTURE', '30.00'), requestId: uniqueRequestId('capture') });
    assert.equal(capture.outcome, 'success');
    const requestId = uniqueRequestId('refund');
    const refund = await paypal.refundCapture({ captureId: capture.captureId!, requestId, amount: usd('10.00'), note: 'partial' });
    assert.equal(refund.outcome, 'success');
    assert.equal(refund.providerStatus, 'COMPLETED');
    assert.equal(refund.captureId, capture.captureId);
    assert.deepEqual(refund.amount, usd('10.00'));
    assert.equal((await paypal.refundCapture({ captureId: capture.captureId!, requestId, amount: usd('10.00') })).refundId, refund.refundId);
    assert.equal((await paypal.getRefund(refund.refundId!)).outcome, 'success');
    const partlyRefunded = await paypal.getCapture(capture.captureId!);
    assert.equal(partlyRefunded.providerStatus, 'PARTIALLY_REFUNDED');
    assert.equal(partlyRefunded.outcome, 'success');
    const tooMuch = await paypal.refundCapture({ captureId: capture.captureId!, requestId: uniqueRequestId('refund'), amount: usd('25.00') });
    assert.equal(tooMuch.outcome, 'decline');
    assert.equal(tooMuch.declineReason.issue, 'REFUND_AMOUNT_EXCEEDED');

    const declinedCapture = await paypal.captureOrder({ orderId: await approvedOrder('CAPTURE', '10.04'), requestId: uniqueRequestId('capture') });
    assert.equal(declinedCapture.outcome, 'success');
    const declined = await paypal.refundCapture({ captureId: declinedCapture.captureId!, requestId: uniqueRequestId('refund') });
    assert.equal(declined.outcome, 'decline');
    assert.equal(declined.declineReason.issue, 'REFUND_NOT_ALLOWED');
    assert.equal(declined.captureId, declinedCapture.captureId);
  });

  test('payouts: success, and failure for scenario 05', async () => {
    const requestId = uniqueRequestId('payout');
    const senderBatchId = uniqueRequestId('batch');
    const payout = await paypal.createPayout({ requestId, senderBatchId, senderItemId: 'item-1', amount: usd('10.00'), receiver: 'winner@example.com', note: 'prize' });
    assert.equal(payout.outcome, 'pending');
    assert.equal(payout.senderBatchId, senderBatchId);
    assert.equal((await paypal.createPayout({ requestId, senderBatchId, senderItemId: 'item-1', amount: usd('10.00'), receiver: 'winner@example.com' })).batchId, payout.batchId);
    const settled = await eventually('the payout to settle', async () => {
      const batch = await paypal.getPayoutBatch(payout.batchId!);
      return batch.outcome === 'pending' ? undefined : batch;
    });
    assert.equal(settled.outcome, 'success');
    assert.equal(settled.itemStatus, 'SUCCESS');
    assert.equal(settled.senderItemId, 'item-1');
    assert.ok(settled.transactionId);
    const item = await paypal.getPayoutItem(settled.payoutItemId!);
    assert.equal(item.outcome, 'success');
    assert.equal(item.batchId, payout.batchId);
    assert.equal(item.receiver, 'winner@example.com');

    const duplicateBatch = await paypal.createPayout({ requestId: uniqueRequestId('payout'), senderBatchId, senderItemId: 'item-1', amount: usd('10.00'), receiver: 'winner@example.com' });
    assert.equal(duplicateBatch.outcome, 'decline');
    assert.equal(duplicateBatch.declineReason.issue, 'SENDER_BATCH_ID_ALREADY_USED');

    const failing = await paypal.createPayout({ requestId: uniqueRequestId('payout'), senderBatchId: uniqueRequestId('batch'), senderItemId: 'item-2', amount: usd('10.05'), receiver: 'DHEV3UAE54T3G' });
    const failed = await eventually('the failing payout to settle', async () => {
      const batch = await paypal.getPayoutBatch(failing.batchId!);
      return batch.outcome === 'pending' ? undefined : batch;
    });
    assert.equal(failed.outcome, 'decline');
    assert.equal(failed.itemStatus, 'FAILED');
    assert.equal(failed.declineReason.issue, 'RECEIVER_UNREGISTERED');
    assert.equal((await paypal.getPayoutItem(failed.payoutItemId!)).outcome, 'decline');
  });

  test('scenario 01: capture and authorize declined with INSTRUMENT_DECLINED', async () => {
    const capture = await paypal.captureOrder({ orderId: await approvedOrder('CAPTURE', '10.01'), requestId: uniqueRequestId('capture') });
    assert.equal(capture.outcome, 'decline');
    assert.equal(capture.declineReason.issue, 'INSTRUMENT_DECLINED');
    assert.equal(capture.declineReason.httpStatus, 422);
    const hold = await paypal.authorizeOrder({ orderId: await approvedOrder('AUTHORIZE', '10.01'), requestId: uniqueRequestId('authorize') });
    assert.equal(hold.outcome, 'decline');
    assert.equal(hold.declineReason.issue, 'INSTRUMENT_DECLINED');
  });

  test('scenario 02: a pending capture completes later, with a webhook', async () => {
    const capture = await paypal.captureOrder({ orderId: await approvedOrder('CAPTURE', '10.02'), requestId: uniqueRequestId('capture') });
    assert.equal(capture.outcome, 'pending');
    assert.equal(capture.providerStatus, 'PENDING');
    assert.equal(capture.statusReason, 'PENDING_REVIEW');
    const completed = await eventually('the pending capture to complete', async () => {
      const read = await paypal.getCapture(capture.captureId!);
      return read.outcome === 'pending' ? undefined : read;
    });
    assert.equal(completed.outcome, 'success');
    assert.equal(completed.providerStatus, 'COMPLETED');
    const webhook = await eventually('PAYMENT.CAPTURE.COMPLETED', () =>
      webhooks.find((delivered) => delivered.event.event_type === 'PAYMENT.CAPTURE.COMPLETED' && delivered.event.resource.id === capture.captureId),
    );
    assert.equal(await paypal.verifyWebhookSignature({ webhookId: SANDBOX_WEBHOOK_ID, headers: webhook.headers, event: webhook.rawBody }), true);
  });

  test('scenario 03: a timed-out capture is retried with the same request id and captured exactly once', async () => {
    const orderId = await approvedOrder('CAPTURE', '10.03');
    const impatient = newClient({ timeoutMs: 400 });
    const requestId = uniqueRequestId('capture');
    const error = await failure(impatient.captureOrder({ orderId, requestId }));
    assert.ok(error instanceof ProviderUnavailableError);
    assert.equal(error.reason, 'timeout');
    assert.equal(error.path, `/v2/checkout/orders/${orderId}/capture`);

    // The job's retry: same request id, bounded attempts.
    let retried: CaptureResult | undefined;
    for (let attempt = 1; attempt <= 5 && !retried; attempt += 1) {
      try {
        retried = await paypal.captureOrder({ orderId, requestId });
      } catch (caught) {
        if (!(caught instanceof ProviderUnavailableError)) throw caught;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    assert.ok(retried, 'the retry never answered');
    assert.equal(retried.outcome, 'success');
    const order = await paypal.getOrder(orderId);
    const captures = (order.raw as { purchase_units: Array<{ payments: { captures: unknown[] } }> }).purchase_units[0].payments.captures;
    assert.equal(captures.length, 1);
    assert.equal(order.capture?.captureId, retried.captureId);
  });

  test('scenario 09: the first create answers 503; the retry with the same request id succeeds', async () => {
    const input = {
      requestId: uniqueRequestId('create'), intent: 'CAPTURE' as const, amount: usd('10.09'), referenceId: 'payment-09',
      returnUrl: 'https://merchant.example/return', cancelUrl: 'https://merchant.example/cancel',
    };
    const error = await failure(paypal.createOrder(input));
    assert.ok(error instanceof ProviderUnavailableError);
    assert.equal(error.reason, 'http_status');
    assert.equal(error.httpStatus, 503);
    assert.ok(error.debugId);
    const order = await paypal.createOrder(input);
    assert.equal(order.outcome, 'action_required');
    assert.equal((await paypal.createOrder(input)).orderId, order.orderId);
  });

  test('COF: a vaulted wallet pays without approval; a deleted token no longer pays', async () => {
    const orderId = await approvedOrder('CAPTURE', '12.00', { vault: { storeInVault: true } });
    const first = await paypal.captureOrder({ orderId, requestId: uniqueRequestId('capture') });
    assert.equal(first.outcome, 'success');
    assert.ok(first.vaultId, 'the capture answer carries the vault id');
    const vaultId = first.vaultId!;
    const registered = await paypal.getOrder(orderId);
    assert.equal(registered.vaultId, vaultId);
    assert.equal(registered.vaultStatus, 'VAULTED');

    const repeatInput = { requestId: uniqueRequestId('cof'), intent: 'CAPTURE' as const, amount: usd('7.00'), referenceId: 'payment-cof', vaultId };
    const repeat = await paypal.createOrder(repeatInput);
    assert.equal(repeat.outcome, 'success', JSON.stringify(repeat.raw));
    assert.equal(repeat.capture?.outcome, 'success');
    assert.deepEqual(repeat.capture?.amount, usd('7.00'));
    const again = await paypal.createOrder(repeatInput);
    assert.equal(again.capture?.captureId, repeat.capture?.captureId);

    const held = await paypal.createOrder({ ...repeatInput, requestId: uniqueRequestId('cof'), intent: 'AUTHORIZE' });
    assert.equal(held.outcome, 'success');
    assert.equal(held.authorization?.providerStatus, 'CREATED');

    assert.deepEqual(
      { ...(await paypal.deletePaymentToken(vaultId)), debugId: undefined, raw: undefined },
      { outcome: 'success', vaultId, alreadyAbsent: false, debugId: undefined, raw: undefined },
    );
    assert.equal((await paypal.deletePaymentToken(vaultId)).alreadyAbsent, true);
    const refused = await paypal.createOrder({ ...repeatInput, requestId: uniqueRequestId('cof') });
    assert.equal(refused.outcome, 'decline');
    assert.equal(refused.declineReason.issue, 'PAYMENT_SOURCE_CANNOT_BE_USED');
  });

  test('unknown ids are ProviderNotFoundError', async () => {
    // One call at a time: a call started early would reject unhandled while the one before it is awaited.
    for (const call of [() => paypal.getOrder('NOSUCHORDER0001'), () => paypal.getCapture('NOSUCHCAPTURE01'), () => paypal.getPayoutItem('NOSUCHITEM')]) {
      const error = await failure(call());
      assert.ok(error instanceof ProviderNotFoundError, String(error));
      assert.equal(error.httpStatus, 404);
    }
  });

  test('bad credentials are a ProviderAuthenticationError that does not carry the secret', async () => {
    const wrongSecret = 'wrong-secret-Zk81-do-not-print';
    const error = await failure(newClient({ clientSecret: wrongSecret }).getOrder('ANY'));
    assert.ok(error instanceof ProviderAuthenticationError);
    assert.equal(error.httpStatus, 401);
    assertNoSecretIn(error, wrongSecret, SANDBOX_CLIENT_SECRET);
  });

  test('a rejected token is renewed once and the call repeated; an expired one is renewed before use', async () => {
    let tokenRequests = 0;
    const apiCalls: Array<{ authorization: string | null; requestId: string | null }> = [];
    let spoilNextApiCall = true;
    const spoilingFetch: typeof fetch = async (input, init) => {
      const headers = new Headers(init?.headers);
      if (String(input).endsWith('/v1/oauth2/token')) tokenRequests += 1;
      else {
        if (spoilNextApiCall) {
          spoilNextApiCall = false;
          headers.set('authorization', 'Bearer A21AAexpired.token.value'); // what a revoked or expired token looks like to PayPal
        }
        apiCalls.push({ authorization: headers.get('authorization'), requestId: headers.get('paypal-request-id') });
      }
      return fetch(input, { ...init, headers });
    };
    let nowMs = Date.now();
    const client = newClient({ fetch: spoilingFetch, now: () => nowMs });
    const order = await client.createOrder({
      requestId: uniqueRequestId('create'), intent: 'CAPTURE', amount: usd('10.00'), referenceId: 'payment-token',
      returnUrl: 'https://merchant.example/return',
    });
    assert.equal(order.outcome, 'action_required');
    assert.equal(tokenRequests, 2, 'the 401 made the client fetch a new token');
    assert.equal(apiCalls.length, 2);
    assert.equal(apiCalls[0].requestId, apiCalls[1].requestId);

    await client.getOrder(order.orderId!);
    assert.equal(tokenRequests, 2, 'the renewed token is cached');
    nowMs += 9 * 60 * 60 * 1000; // the sandbox's tokens live 9 hours
    await client.getOrder(order.orderId!);
    assert.equal(tokenRequests, 3, 'an expired token is renewed before use');
  });

  test('webhook signatures: a delivered event verifies; tampered events and headers do not', async () => {
    const capture = await paypal.captureOrder({ orderId: await approvedOrder('CAPTURE', '10.00'), requestId: uniqueRequestId('capture') });
    assert.equal(capture.outcome, 'success');
    const webhook = await eventually('PAYMENT.CAPTURE.COMPLETED', () =>
      webhooks.find((delivered) => delivered.event.event_type === 'PAYMENT.CAPTURE.COMPLETED' && delivered.event.resource.id === capture.captureId),
    );
    const verify = (overrides: Partial<VerifyInput>) =>
      paypal.verifyWebhookSignature({ webhookId: SANDBOX_WEBHOOK_ID, headers: webhook.headers, event: webhook.rawBody, ...overrides });
    type VerifyInput = Parameters<PaypalClient['verifyWebhookSignature']>[0];

    assert.equal(await verify({}), true);
    assert.equal(await verify({ event: JSON.parse(webhook.rawBody) }), true);
    assert.equal(await verify({ event: webhook.rawBody.replace('"10.00"', '"99.00"') }), false);
    assert.equal(await verify({ headers: { ...webhook.headers, 'paypal-transmission-id': 'forged-transmission' } }), false);
    assert.equal(await verify({ webhookId: 'WH-SOMEONE-ELSE' }), false);
    assert.equal(await verify({ headers: { ...webhook.headers, 'paypal-transmission-sig': undefined } }), false);
  });

  test('scenario 08: a duplicated webhook verifies twice with the same event id (receivers dedupe by id)', async () => {
    const capture = await paypal.captureOrder({ orderId: await approvedOrder('CAPTURE', '10.08'), requestId: uniqueRequestId('capture') });
    assert.equal(capture.outcome, 'success');
    const copies = await eventually('two copies of PAYMENT.CAPTURE.COMPLETED', () => {
      const found = webhooks.filter((delivered) => delivered.event.event_type === 'PAYMENT.CAPTURE.COMPLETED' && delivered.event.resource.id === capture.captureId);
      return found.length >= 2 ? found : undefined;
    });
    assert.equal(copies[0].event.id, copies[1].event.id);
    for (const copy of copies) {
      assert.equal(await paypal.verifyWebhookSignature({ webhookId: SANDBOX_WEBHOOK_ID, headers: copy.headers, event: copy.rawBody }), true);
    }
  });

  test('no error thrown in this suite carries the client secret or an access token', () => {
    assert.ok(caughtErrors.length >= 6);
    assert.ok(bearerTokensSeen.size >= 1);
    for (const error of caughtErrors) assertNoSecretIn(error, SANDBOX_CLIENT_SECRET, ...bearerTokensSeen);
  });
});
