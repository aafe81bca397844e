/*
 * The PayPal connector, in three layers:
 *   1. pure transformers: every status of every closed union maps, unknown throws;
 *   2. HTTP plumbing against a scripted `fetch`: token cache, 401 renewal,
 *      classification of 4xx/5xx/timeouts/garbage, and no secret in any error;
 *   3. integration against the platform's PayPal sandbox on real PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { inspect } from 'node:util';
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
