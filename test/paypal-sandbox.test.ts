/**
 * The PayPal sandbox over real HTTP on a real PostgreSQL: OAuth, orders and
 * the approval page, authorizations, refunds (with races), payouts, vault,
 * idempotent replays, every scenario row, and signed webhooks checked through
 * the verify endpoint and offline with the served certificate.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyInstance } from 'fastify';
import { issues } from '../src/sandbox/paypal/errors.ts';
import { paypalSandboxPlugin, type PaypalSandboxOptions } from '../src/sandbox/paypal/index.ts';
import { scenarioDigits, scenarios } from '../src/sandbox/paypal/scenarios.ts';
import { crc32, webhookSignatureIsValid } from '../src/sandbox/paypal/webhook-signature.ts';
import { createTestDatabase, stopTestServer, type TestDatabase } from './support/database.ts';

const clientId = 'sandbox-test-client';
const clientSecret = 'sandbox-test-secret';
const webhookId = 'WH-TEST-1234567890';
const timeoutScenarioDelayMs = 600;
const pendingCompletionDelayMs = 300;

// ---------------------------------------------------------------------------
// Webhook receiver

interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  rawBody: string;
  event: {
    id: string;
    event_type: string;
    resource_type: string;
    event_version: string;
    create_time: string;
    summary: string;
    resource: Record<string, any>;
    links: unknown[];
  };
}

const received: ReceivedWebhook[] = [];
let receiverStatusCode = 200;
let receiver: Server;
let receiverUrl: string;

async function startReceiver(): Promise<void> {
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      if (receiverStatusCode === 200) received.push({ headers: request.headers, rawBody, event: JSON.parse(rawBody) });
      response.statusCode = receiverStatusCode;
      response.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/webhooks/paypal`;
}

async function waitFor<T>(what: string, find: () => T | undefined | Promise<T | undefined>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

const webhooksFor = (eventType: string, resourceId: string) =>
  received.filter((webhook) => webhook.event.event_type === eventType && webhook.event.resource.id === resourceId);

function waitForWebhook(eventType: string, resourceId: string, timeoutMs?: number): Promise<ReceivedWebhook> {
  return waitFor(`${eventType} for ${resourceId}`, () => webhooksFor(eventType, resourceId)[0], timeoutMs);
}

// ---------------------------------------------------------------------------
// Sandbox under test

let database: TestDatabase;
let app: FastifyInstance;
let origin: string;
let sandbox: string;
let webhookTarget: string | undefined;
let clockOffsetMs = 0;

async function startSandbox(port = 0): Promise<void> {
  app = Fastify();
  const options: Omit<PaypalSandboxOptions, 'publicBaseUrl'> = {
    pool: database.pool,
    clientId,
    clientSecret,
    webhookUrl: () => webhookTarget,
    webhookId,
    timeoutScenarioDelayMs,
    pendingCompletionDelayMs,
    now: () => new Date(Date.now() + clockOffsetMs),
  };
  // The public URL must be known at registration; reserve a port first when none is given.
  if (port === 0) {
    const probe = Fastify();
    await probe.listen({ port: 0, host: '127.0.0.1' });
    port = (probe.server.address() as { port: number }).port;
    await probe.close();
  }
  origin = `http://127.0.0.1:${port}`;
  sandbox = `${origin}/sandbox/paypal`;
  await app.register(paypalSandboxPlugin, { prefix: '/sandbox/paypal', publicBaseUrl: sandbox, ...options });
  await app.listen({ port, host: '127.0.0.1' });
}

before(async () => {
  database = await createTestDatabase();
  await startReceiver();
  webhookTarget = receiverUrl;
  await startSandbox();
});

after(async () => {
  await app?.close();
  await new Promise((resolve) => receiver?.close(resolve));
  await database?.drop();
  await stopTestServer();
});

// ---------------------------------------------------------------------------
// HTTP helpers

interface ApiResponse {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

let cachedToken: string | undefined;

async function accessToken(): Promise<string> {
  if (cachedToken) return cachedToken;
  const response = await fetch(`${sandbox}/v1/oauth2/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  assert.equal(response.status, 200);
  cachedToken = ((await response.json()) as { access_token: string }).access_token;
  return cachedToken;
}

async function api(
  method: string,
  path: string,
  options: { body?: unknown; requestId?: string; prefer?: 'return=minimal' | 'return=representation'; signal?: AbortSignal; token?: string | null } = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = {};
  const token = options.token === undefined ? await accessToken() : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.requestId) headers['paypal-request-id'] = options.requestId;
  if (options.prefer) headers.prefer = options.prefer;
  const response = await fetch(`${sandbox}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: options.signal,
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: text ? JSON.parse(text) : undefined };
}

let requestCounter = 0;
const newRequestId = () => `test-request-${Date.now()}-${(requestCounter += 1)}`;

interface OrderOptions {
  intent?: 'CAPTURE' | 'AUTHORIZE';
  currency?: string;
  paymentSource?: boolean;
  vault?: boolean;
  vaultId?: string;
  requestId?: string;
}

function orderBody(value: string, options: OrderOptions = {}) {
  const urls = { return_url: 'https://merchant.example/return?cart=7', cancel_url: 'https://merchant.example/cancel' };
  const body: Record<string, unknown> = {
    intent: options.intent ?? 'CAPTURE',
    purchase_units: [
      {
        reference_id: 'ref-1',
        description: 'Sandbox <test> order',
        custom_id: 'payment-42',
        invoice_id: `invoice-${newRequestId()}`,
        amount: { currency_code: options.currency ?? 'USD', value },
      },
    ],
  };
  if (options.vaultId) body.payment_source = { paypal: { vault_id: options.vaultId } };
  else if (options.paymentSource || options.vault) {
    body.payment_source = {
      paypal: {
        experience_context: { ...urls, brand_name: 'Gatehouse Shop' },
        ...(options.vault ? { attributes: { vault: { store_in_vault: 'ON_SUCCESS', usage_type: 'MERCHANT' } } } : {}),
      },
    };
  } else body.application_context = urls;
  return body;
}

async function createOrder(value: string, options: OrderOptions = {}): Promise<any> {
  const response = await api('POST', '/v2/checkout/orders', { body: orderBody(value, options), requestId: options.requestId });
  assert.equal(response.status, 201, response.text);
  return response.body;
}

function linkOf(resource: { links?: Array<{ rel: string; href: string }> }, rel: string): string {
  const link = resource.links?.find((candidate) => candidate.rel === rel);
  assert.ok(link, `link ${rel} in ${JSON.stringify(resource.links)}`);
  return link.href;
}

/** Posts the approval form the way a browser submits it. */
async function submitApproval(orderId: string, action: 'approve' | 'cancel', email = 'buyer@example.com'): Promise<Response> {
  return fetch(`${sandbox}/checkoutnow?token=${orderId}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ action, email }),
  });
}

async function approvedOrder(value: string, options: OrderOptions & { email?: string } = {}): Promise<string> {
  const order = await createOrder(value, options);
  const response = await submitApproval(order.id, 'approve', options.email);
  assert.equal(response.status, 303);
  return order.id;
}

async function capturedOrder(value: string, options: OrderOptions & { email?: string } = {}): Promise<{ orderId: string; captureId: string; body: any }> {
  const orderId = await approvedOrder(value, options);
  const response = await api('POST', `/v2/checkout/orders/${orderId}/capture`, { requestId: newRequestId() });
  assert.equal(response.status, 201, response.text);
  return { orderId, captureId: response.body.purchase_units[0].payments.captures[0].id, body: response.body };
}

async function authorizedOrder(value: string): Promise<{ orderId: string; authorizationId: string }> {
  const orderId = await approvedOrder(value, { intent: 'AUTHORIZE' });
  const response = await api('POST', `/v2/checkout/orders/${orderId}/authorize`, { requestId: newRequestId() });
  assert.equal(response.status, 201, response.text);
  return { orderId, authorizationId: response.body.purchase_units[0].payments.authorizations[0].id };
}

function assertPaypalError(response: ApiResponse, status: number, name: string, issue: string): void {
  assert.equal(response.status, status, response.text);
  assert.equal(response.body.name, name);
  assert.equal(typeof response.body.message, 'string');
  assert.match(response.body.debug_id, /^[0-9a-f]{13}$/);
  assert.equal(response.body.details[0].issue, issue);
  assert.equal(typeof response.body.details[0].description, 'string');
  assert.ok(Array.isArray(response.body.links));
}

async function verifySignature(webhook: ReceivedWebhook, event: unknown = webhook.event, overrides: Record<string, string> = {}) {
  const response = await api('POST', '/v1/notifications/verify-webhook-signature', {
    body: {
      auth_algo: webhook.headers['paypal-auth-algo'],
      cert_url: webhook.headers['paypal-cert-url'],
      transmission_id: webhook.headers['paypal-transmission-id'],
      transmission_sig: webhook.headers['paypal-transmission-sig'],
      transmission_time: webhook.headers['paypal-transmission-time'],
      webhook_id: webhookId,
      webhook_event: event,
      ...overrides,
    },
  });
  assert.equal(response.status, 200, response.text);
  return response.body.verification_status as string;
}

// ---------------------------------------------------------------------------

describe('OAuth 2 client credentials', () => {
  test('issues a Bearer token for the configured credentials', async () => {
    const response = await fetch(`${sandbox}/v1/oauth2/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as Record<string, unknown>;
    assert.equal(body.token_type, 'Bearer');
    assert.equal(typeof body.access_token, 'string');
    assert.equal(body.expires_in, 32_400);
    assert.match(String(body.app_id), /^APP-/);
    assert.equal(typeof body.scope, 'string');
    assert.equal(typeof body.nonce, 'string');
  });

  test('rejects wrong credentials and wrong grant types', async () => {
    const wrong = await fetch(`${sandbox}/v1/oauth2/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${clientId}:nope`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    assert.equal(wrong.status, 401);
    assert.deepEqual(await wrong.json(), { error: 'invalid_client', error_description: 'Client Authentication failed' });
    const grant = await fetch(`${sandbox}/v1/oauth2/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=password',
    });
    assert.equal(grant.status, 400);
  });

  test('every API call needs a valid Bearer token', async () => {
    assertPaypalError(await api('GET', '/v2/checkout/orders/ANY', { token: null }), 401, 'AUTHENTICATION_FAILURE', 'INVALID_ACCESS_TOKEN');
    assertPaypalError(await api('GET', '/v2/checkout/orders/ANY', { token: 'A21AAforged.token' }), 401, 'AUTHENTICATION_FAILURE', 'INVALID_ACCESS_TOKEN');
    assertPaypalError(await api('POST', '/v1/payments/payouts', { token: null, body: {} }), 401, 'AUTHENTICATION_FAILURE', 'INVALID_ACCESS_TOKEN');
  });
});

describe('orders and the approval page', () => {
  test('create -> approval page -> approve -> capture', async () => {
    const order = await createOrder('10.00');
    assert.match(order.id, /^[0-9A-Z]{17}$/);
    assert.equal(order.status, 'CREATED');
    const approveUrl = linkOf(order, 'approve');
    assert.equal(approveUrl, `${sandbox}/checkoutnow?token=${order.id}`);
    linkOf(order, 'capture');

    const page = await fetch(approveUrl);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    const html = await page.text();
    assert.match(html, /<html lang="en">/);
    assert.match(html, /10\.00 USD/);
    assert.match(html, /Sandbox &#60;test&#62; order/, 'the description is escaped');
    assert.match(html, /<form method="post" action="checkoutnow\?token=[0-9A-Z]{17}">/);
    assert.match(html, /<label for="email">/);
    assert.match(html, /value="buyer@example.com"/);
    assert.match(html, /name="action" value="approve"/);
    assert.match(html, /name="action" value="cancel"/);
    assert.doesNotMatch(html, /<script/i);
    assert.doesNotMatch(html, /style="/);
    const stylesheet = await fetch(`${sandbox}/assets/checkout.css`);
    assert.equal(stylesheet.status, 200);

    const approval = await submitApproval(order.id, 'approve', 'jane.doe@example.com');
    assert.equal(approval.status, 303);
    const returnUrl = new URL(approval.headers.get('location')!);
    assert.equal(returnUrl.origin + returnUrl.pathname, 'https://merchant.example/return');
    assert.equal(returnUrl.searchParams.get('cart'), '7');
    assert.equal(returnUrl.searchParams.get('token'), order.id);
    const payerId = returnUrl.searchParams.get('PayerID')!;
    assert.match(payerId, /^[0-9A-Z]{13}$/);

    const approved = await api('GET', `/v2/checkout/orders/${order.id}`);
    assert.equal(approved.status, 200);
    assert.equal(approved.body.status, 'APPROVED');
    assert.deepEqual(approved.body.payer, {
      name: { given_name: 'Jane', surname: 'Doe' },
      email_address: 'jane.doe@example.com',
      payer_id: payerId,
      address: { country_code: 'US' },
    });
    assert.equal(approved.body.purchase_units[0].amount.value, '10.00');
    assert.equal(approved.body.purchase_units[0].custom_id, 'payment-42');
    const approvedEvent = await waitForWebhook('CHECKOUT.ORDER.APPROVED', order.id);
    assert.equal(approvedEvent.event.resource.payer.payer_id, payerId);

    const capture = await api('POST', `/v2/checkout/orders/${order.id}/capture`, { requestId: newRequestId() });
    assert.equal(capture.status, 201, capture.text);
    assert.equal(capture.body.status, 'COMPLETED');
    const captured = capture.body.purchase_units[0].payments.captures[0];
    assert.match(captured.id, /^[0-9A-Z]{17}$/);
    assert.equal(captured.status, 'COMPLETED');
    assert.deepEqual(captured.amount, { currency_code: 'USD', value: '10.00' });
    assert.equal(captured.custom_id, 'payment-42');
    assert.ok(captured.create_time && captured.update_time);
    assert.equal(capture.body.payer.email_address, 'jane.doe@example.com');
    assert.equal(capture.body.payment_source.paypal.account_id, payerId);

    const captureResource = await api('GET', `/v2/payments/captures/${captured.id}`);
    assert.equal(captureResource.body.supplementary_data.related_ids.order_id, order.id);
    const completed = await waitForWebhook('PAYMENT.CAPTURE.COMPLETED', captured.id);
    assert.equal(completed.event.resource.supplementary_data.related_ids.order_id, order.id);

    assertPaypalError(await api('POST', `/v2/checkout/orders/${order.id}/capture`, { requestId: newRequestId() }), 422, 'UNPROCESSABLE_ENTITY', 'ORDER_ALREADY_CAPTURED');
    const completedPage = await fetch(approveUrl);
    assert.equal(completedPage.status, 409);
  });

  test('payment_source.paypal orders need payer action; Prefer: return=representation gives the whole order', async () => {
    const response = await api('POST', '/v2/checkout/orders', { body: orderBody('11.00', { paymentSource: true }), prefer: 'return=representation' });
    assert.equal(response.status, 201);
    assert.equal(response.body.status, 'PAYER_ACTION_REQUIRED');
    assert.equal(response.body.intent, 'CAPTURE');
    assert.equal(response.body.purchase_units[0].reference_id, 'ref-1');
    assert.deepEqual(response.body.payment_source, { paypal: {} });
    assert.equal(linkOf(response.body, 'payer-action'), `${sandbox}/checkoutnow?token=${response.body.id}`);
    assertPaypalError(await api('POST', `/v2/checkout/orders/${response.body.id}/capture`), 422, 'UNPROCESSABLE_ENTITY', 'ORDER_NOT_APPROVED');

    const minimal = await api('POST', '/v2/checkout/orders', { body: orderBody('11.00', { paymentSource: true }) });
    assert.deepEqual(Object.keys(minimal.body).sort(), ['id', 'links', 'payment_source', 'status']);
  });

  test('cancel on the approval page returns to cancel_url and leaves the order unapproved', async () => {
    const order = await createOrder('12.00');
    const response = await submitApproval(order.id, 'cancel', '');
    assert.equal(response.status, 303);
    assert.equal(response.headers.get('location'), `https://merchant.example/cancel?token=${order.id}`);
    const after = await api('GET', `/v2/checkout/orders/${order.id}`);
    assert.equal(after.body.status, 'CREATED');
  });

  test('the approval page refuses unknown, invalid and expired cases with clear pages', async () => {
    const unknown = await fetch(`${sandbox}/checkoutnow?token=NOSUCHORDER000000`);
    assert.equal(unknown.status, 404);
    assert.match(await unknown.text(), /Payment not found/);
    assert.equal((await fetch(`${sandbox}/checkoutnow`)).status, 400);

    const order = await createOrder('12.50');
    const invalid = await submitApproval(order.id, 'approve', 'not-an-email');
    assert.equal(invalid.status, 400);
    const html = await invalid.text();
    assert.match(html, /aria-invalid="true"/);
    assert.match(html, /id="email-error"/);

    clockOffsetMs = 4 * 60 * 60 * 1000;
    try {
      const expired = await fetch(`${sandbox}/checkoutnow?token=${order.id}`);
      assert.equal(expired.status, 410);
      assert.equal((await submitApproval(order.id, 'approve')).status, 410);
    } finally {
      clockOffsetMs = 0;
    }
  });

  test('request errors use PayPal error shapes', async () => {
    assertPaypalError(await api('GET', '/v2/checkout/orders/NOSUCHORDER000000'), 404, 'RESOURCE_NOT_FOUND', 'INVALID_RESOURCE_ID');
    const malformed = await fetch(`${sandbox}/v2/checkout/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await accessToken()}`, 'content-type': 'application/json' },
      body: '{"intent":',
    });
    assert.equal(malformed.status, 400);
    assert.equal(((await malformed.json()) as any).details[0].issue, 'MALFORMED_REQUEST_JSON');
    assertPaypalError(await api('POST', '/v2/checkout/orders', { body: { purchase_units: [] } }), 400, 'INVALID_REQUEST', 'MISSING_REQUIRED_PARAMETER');
    assertPaypalError(await api('POST', '/v2/checkout/orders', { body: orderBody('10.5', { currency: 'JPY' }) }), 422, 'UNPROCESSABLE_ENTITY', 'DECIMALS_NOT_SUPPORTED');
    assertPaypalError(await api('POST', '/v2/checkout/orders', { body: orderBody('10.123') }), 422, 'UNPROCESSABLE_ENTITY', 'DECIMAL_PRECISION');
    assertPaypalError(await api('POST', '/v2/checkout/orders', { body: orderBody('0.00') }), 422, 'UNPROCESSABLE_ENTITY', 'CANNOT_BE_ZERO_OR_NEGATIVE');
    assertPaypalError(await api('POST', '/v2/checkout/orders', { body: orderBody('10.00', { currency: 'XYZ' }) }), 422, 'UNPROCESSABLE_ENTITY', 'CURRENCY_NOT_SUPPORTED');
    const authorizeOrder = await approvedOrder('13.00', { intent: 'AUTHORIZE' });
    assertPaypalError(await api('POST', `/v2/checkout/orders/${authorizeOrder}/capture`), 422, 'UNPROCESSABLE_ENTITY', 'ACTION_DOES_NOT_MATCH_INTENT');
  });
});

describe('authorizations', () => {
  test('authorize, capture in two parts, then nothing is left', async () => {
    const { orderId, authorizationId } = await authorizedOrder('30.00');
    const created = await waitForWebhook('PAYMENT.AUTHORIZATION.CREATED', authorizationId);
    assert.equal(created.event.resource.supplementary_data.related_ids.order_id, orderId);
    const order = await api('GET', `/v2/checkout/orders/${orderId}`);
    assert.equal(order.body.status, 'COMPLETED');
    assertPaypalError(await api('POST', `/v2/checkout/orders/${orderId}/authorize`, { requestId: newRequestId() }), 422, 'UNPROCESSABLE_ENTITY', 'ORDER_ALREADY_AUTHORIZED');

    const first = await api('POST', `/v2/payments/authorizations/${authorizationId}/capture`, {
      body: { amount: { currency_code: 'USD', value: '10.00' }, final_capture: false },
      requestId: newRequestId(),
    });
    assert.equal(first.status, 201, first.text);
    assert.deepEqual(Object.keys(first.body).sort(), ['id', 'links', 'status']);
    assert.equal(first.body.status, 'COMPLETED');
    assert.equal((await api('GET', `/v2/payments/authorizations/${authorizationId}`)).body.status, 'PARTIALLY_CAPTURED');

    assertPaypalError(
      await api('POST', `/v2/payments/authorizations/${authorizationId}/capture`, { body: { amount: { currency_code: 'USD', value: '20.01' } } }),
      422,
      'UNPROCESSABLE_ENTITY',
      'MAX_CAPTURE_AMOUNT_EXCEEDED',
    );
    const rest = await api('POST', `/v2/payments/authorizations/${authorizationId}/capture`, { prefer: 'return=representation', requestId: newRequestId() });
    assert.equal(rest.status, 201);
    assert.deepEqual(rest.body.amount, { currency_code: 'USD', value: '20.00' });
    assert.equal(rest.body.final_capture, true);
    assert.equal(rest.body.supplementary_data.related_ids.authorization_id, authorizationId);
    assert.equal((await api('GET', `/v2/payments/authorizations/${authorizationId}`)).body.status, 'CAPTURED');
    assertPaypalError(await api('POST', `/v2/payments/authorizations/${authorizationId}/capture`), 422, 'UNPROCESSABLE_ENTITY', 'AUTHORIZATION_ALREADY_CAPTURED');
    assertPaypalError(await api('POST', `/v2/payments/authorizations/${authorizationId}/void`), 422, 'UNPROCESSABLE_ENTITY', 'PREVIOUSLY_CAPTURED');
    const orderAfter = await api('GET', `/v2/checkout/orders/${orderId}`);
    assert.equal(orderAfter.body.purchase_units[0].payments.captures.length, 2);
  });

  test('void answers 204, then the authorization can be neither captured nor voided again', async () => {
    const { authorizationId } = await authorizedOrder('31.00');
    const voided = await api('POST', `/v2/payments/authorizations/${authorizationId}/void`, { requestId: newRequestId() });
    assert.equal(voided.status, 204);
    assert.equal(voided.text, '');
    assert.equal((await api('GET', `/v2/payments/authorizations/${authorizationId}`)).body.status, 'VOIDED');
    await waitForWebhook('PAYMENT.AUTHORIZATION.VOIDED', authorizationId);
    assertPaypalError(await api('POST', `/v2/payments/authorizations/${authorizationId}/capture`), 422, 'UNPROCESSABLE_ENTITY', 'AUTHORIZATION_VOIDED');
    assertPaypalError(await api('POST', `/v2/payments/authorizations/${authorizationId}/void`), 422, 'UNPROCESSABLE_ENTITY', 'PREVIOUSLY_VOIDED');

    const second = await authorizedOrder('32.00');
    const represented = await api('POST', `/v2/payments/authorizations/${second.authorizationId}/void`, { prefer: 'return=representation' });
    assert.equal(represented.status, 200);
    assert.equal(represented.body.status, 'VOIDED');
  });

  test('an authorization expires after 29 days on the injected clock', async () => {
    const { authorizationId } = await authorizedOrder('33.00');
    clockOffsetMs = 30 * 24 * 60 * 60 * 1000;
    try {
      assert.equal((await api('GET', `/v2/payments/authorizations/${authorizationId}`)).body.status, 'EXPIRED');
      assertPaypalError(await api('POST', `/v2/payments/authorizations/${authorizationId}/capture`), 422, 'UNPROCESSABLE_ENTITY', 'AUTHORIZATION_EXPIRED');
    } finally {
      clockOffsetMs = 0;
    }
  });
});

describe('refunds', () => {
  test('partial and full refunds; never more than the capture', async () => {
    const { captureId, orderId } = await capturedOrder('10.00');
    const partial = await api('POST', `/v2/payments/captures/${captureId}/refund`, {
      body: { amount: { currency_code: 'USD', value: '3.00' }, note_to_payer: 'sorry' },
      requestId: newRequestId(),
    });
    assert.equal(partial.status, 201, partial.text);
    assert.match(partial.body.id, /^[0-9A-Z]{17}$/);
    assert.equal(partial.body.status, 'COMPLETED');
    assert.equal((await api('GET', `/v2/payments/captures/${captureId}`)).body.status, 'PARTIALLY_REFUNDED');
    const refundEvent = await waitForWebhook('PAYMENT.CAPTURE.REFUNDED', partial.body.id);
    assert.equal(refundEvent.event.resource.amount.value, '3.00');
    assert.equal(linkOf(refundEvent.event.resource, 'up'), `${sandbox}/v2/payments/captures/${captureId}`);

    assertPaypalError(
      await api('POST', `/v2/payments/captures/${captureId}/refund`, { body: { amount: { currency_code: 'USD', value: '7.01' } } }),
      422,
      'UNPROCESSABLE_ENTITY',
      'REFUND_AMOUNT_EXCEEDED',
    );
    const rest = await api('POST', `/v2/payments/captures/${captureId}/refund`, { prefer: 'return=representation', requestId: newRequestId() });
    assert.equal(rest.status, 201);
    assert.equal(rest.body.amount.value, '7.00');
    assert.equal(rest.body.seller_payable_breakdown.total_refunded_amount.value, '10.00');
    assert.equal((await api('GET', `/v2/payments/captures/${captureId}`)).body.status, 'REFUNDED');
    assertPaypalError(await api('POST', `/v2/payments/captures/${captureId}/refund`), 422, 'UNPROCESSABLE_ENTITY', 'CAPTURE_FULLY_REFUNDED');

    const refund = await api('GET', `/v2/payments/refunds/${partial.body.id}`);
    assert.equal(refund.body.note_to_payer, 'sorry');
    assert.equal(refund.body.amount.value, '3.00');
    const order = await api('GET', `/v2/checkout/orders/${orderId}`);
    assert.equal(order.body.purchase_units[0].payments.refunds.length, 2);
  });

  test('concurrent refunds of one capture never exceed it', async () => {
    const { captureId } = await capturedOrder('10.00');
    const attempts = await Promise.all(
      Array.from({ length: 8 }, () =>
        api('POST', `/v2/payments/captures/${captureId}/refund`, { body: { amount: { currency_code: 'USD', value: '3.00' } }, requestId: newRequestId() }),
      ),
    );
    const succeeded = attempts.filter((attempt) => attempt.status === 201);
    assert.equal(succeeded.length, 3);
    for (const attempt of attempts.filter((candidate) => candidate.status !== 201)) {
      assertPaypalError(attempt, 422, 'UNPROCESSABLE_ENTITY', 'REFUND_AMOUNT_EXCEEDED');
    }
    const row = await database.pool.query('SELECT amount_minor, refunded_minor FROM paypal_sandbox.captures WHERE id = $1', [captureId]);
    assert.equal(row.rows[0].refunded_minor, '900');
    const sum = await database.pool.query('SELECT sum(amount_minor)::text AS total FROM paypal_sandbox.refunds WHERE capture_id = $1', [captureId]);
    assert.equal(sum.rows[0].total, '900');
  });

  test('concurrent captures of one order: exactly one wins', async () => {
    const orderId = await approvedOrder('14.00');
    const attempts = await Promise.all(
      Array.from({ length: 5 }, () => api('POST', `/v2/checkout/orders/${orderId}/capture`, { requestId: newRequestId() })),
    );
    assert.equal(attempts.filter((attempt) => attempt.status === 201).length, 1);
    assert.equal(attempts.filter((attempt) => attempt.status === 422).length, 4);
  });

  test('concurrent approvals of one order (a double click): one approves, the others are told it is already approved; one event', async () => {
    const order = await createOrder('14.50');
    const responses = await Promise.all(Array.from({ length: 4 }, () => submitApproval(order.id, 'approve')));
    assert.deepEqual(responses.map((response) => response.status).sort(), [303, 409, 409, 409]);
    const events = await database.pool.query(
      `SELECT count(*)::int AS n FROM paypal_sandbox.webhook_events WHERE resource_id = $1 AND event_type = 'CHECKOUT.ORDER.APPROVED'`,
      [order.id],
    );
    assert.equal(events.rows[0].n, 1);
  });
});

describe('PayPal-Request-Id idempotency', () => {
  test('a repeated capture returns the first response and captures once', async () => {
    const orderId = await approvedOrder('15.00');
    const requestId = newRequestId();
    const first = await api('POST', `/v2/checkout/orders/${orderId}/capture`, { requestId });
    const second = await api('POST', `/v2/checkout/orders/${orderId}/capture`, { requestId });
    assert.equal(first.status, 201);
    assert.equal(second.status, first.status);
    assert.equal(second.text, first.text);
    const concurrent = await Promise.all([1, 2, 3].map(() => api('POST', `/v2/checkout/orders/${orderId}/capture`, { requestId })));
    for (const response of concurrent) assert.equal(response.text, first.text);
    const captures = await database.pool.query('SELECT count(*)::int AS count FROM paypal_sandbox.captures WHERE order_id = $1', [orderId]);
    assert.equal(captures.rows[0].count, 1);
  });

  test('concurrent creates with one request id make one order', async () => {
    const requestId = newRequestId();
    const body = orderBody('16.00');
    const responses = await Promise.all([1, 2, 3, 4].map(() => api('POST', '/v2/checkout/orders', { body, requestId })));
    const ids = new Set(responses.map((response) => response.body.id));
    assert.equal(ids.size, 1);
    for (const response of responses) assert.equal(response.status, 201);
  });

  test('refund, void and payouts replay too; a failed attempt is not stored', async () => {
    const { captureId } = await capturedOrder('17.00');
    const refundRequestId = newRequestId();
    const refundBody = { amount: { currency_code: 'USD', value: '1.00' } };
    const refund = await api('POST', `/v2/payments/captures/${captureId}/refund`, { body: refundBody, requestId: refundRequestId });
    const replay = await api('POST', `/v2/payments/captures/${captureId}/refund`, { body: refundBody, requestId: refundRequestId });
    assert.equal(replay.text, refund.text);
    assert.equal((await api('GET', `/v2/payments/captures/${captureId}`)).body.status, 'PARTIALLY_REFUNDED');
    const refunds = await database.pool.query('SELECT count(*)::int AS count FROM paypal_sandbox.refunds WHERE capture_id = $1', [captureId]);
    assert.equal(refunds.rows[0].count, 1);

    const { authorizationId } = await authorizedOrder('18.00');
    const voidRequestId = newRequestId();
    assert.equal((await api('POST', `/v2/payments/authorizations/${authorizationId}/void`, { requestId: voidRequestId })).status, 204);
    assert.equal((await api('POST', `/v2/payments/authorizations/${authorizationId}/void`, { requestId: voidRequestId })).status, 204);

    // A capture refused before approval is not remembered: the same request id works once approved.
    const order = await createOrder('19.00');
    const captureRequestId = newRequestId();
    assert.equal((await api('POST', `/v2/checkout/orders/${order.id}/capture`, { requestId: captureRequestId })).status, 422);
    await submitApproval(order.id, 'approve');
    assert.equal((await api('POST', `/v2/checkout/orders/${order.id}/capture`, { requestId: captureRequestId })).status, 201);
  });
});

describe('payouts', () => {
  test('a batch is PENDING, then SUCCESS with per-item outcomes and webhooks', async () => {
    const senderBatchId = `batch-${newRequestId()}`;
    const body = {
      sender_batch_header: { sender_batch_id: senderBatchId, email_subject: 'You have a payout!' },
      items: [
        { recipient_type: 'EMAIL', amount: { value: '10.00', currency: 'USD' }, receiver: 'payee@example.com', sender_item_id: 'item-1', note: 'Thanks' },
        { recipient_type: 'EMAIL', amount: { value: '10.05', currency: 'USD' }, receiver: 'payee2@example.com', sender_item_id: 'item-2' },
        { recipient_type: 'EMAIL', amount: { value: '3.00', currency: 'USD' }, receiver: 'unknown-person@example.com', sender_item_id: 'item-3' },
        { recipient_type: 'PAYPAL_ID', amount: { value: '4.00', currency: 'USD' }, receiver: 'UNCLAIMED12345', sender_item_id: 'item-4' },
      ],
    };
    const requestId = newRequestId();
    const created = await api('POST', '/v1/payments/payouts', { body, requestId });
    assert.equal(created.status, 201, created.text);
    const batchId = created.body.batch_header.payout_batch_id;
    assert.match(batchId, /^[0-9A-Z]{13}$/);
    assert.equal(created.body.batch_header.batch_status, 'PENDING');
    assert.equal(created.body.batch_header.sender_batch_header.sender_batch_id, senderBatchId);
    assert.equal(linkOf(created.body, 'self'), `${sandbox}/v1/payments/payouts/${batchId}`);

    const replay = await api('POST', '/v1/payments/payouts', { body, requestId });
    assert.equal(replay.status, 201);
    assert.equal(replay.text, created.text);
    assertPaypalError(await api('POST', '/v1/payments/payouts', { body, requestId: newRequestId() }), 400, 'USER_BUSINESS_ERROR', 'SENDER_BATCH_ID_ALREADY_USED');

    const batch = await api('GET', `/v1/payments/payouts/${batchId}`);
    assert.equal(batch.status, 200);
    assert.equal(batch.body.batch_header.batch_status, 'SUCCESS');
    assert.deepEqual(batch.body.batch_header.amount, { currency: 'USD', value: '27.05' });
    const [ok, failedByAmount, failedByReceiver, unclaimed] = batch.body.items;
    assert.equal(ok.transaction_status, 'SUCCESS');
    assert.match(ok.transaction_id, /^[0-9A-Z]{17}$/);
    assert.equal(ok.payout_item.receiver, 'payee@example.com');
    assert.equal(ok.payout_item.note, 'Thanks');
    assert.equal(failedByAmount.transaction_status, 'FAILED');
    assert.equal(failedByAmount.errors.name, 'RECEIVER_UNREGISTERED');
    assert.equal(failedByReceiver.transaction_status, 'FAILED');
    assert.equal(unclaimed.transaction_status, 'UNCLAIMED');

    const item = await api('GET', `/v1/payments/payouts-item/${ok.payout_item_id}`);
    assert.equal(item.body.transaction_status, 'SUCCESS');
    assert.equal(item.body.payout_batch_id, batchId);
    assert.equal(item.body.sender_batch_id, senderBatchId);

    const itemWebhook = await waitFor('payout item webhook', () =>
      received.find((webhook) => webhook.event.event_type === 'PAYMENT.PAYOUTS-ITEM.SUCCEEDED' && webhook.event.resource.payout_item_id === ok.payout_item_id),
    );
    assert.equal(itemWebhook.event.resource_type, 'payouts_item');
    const failedWebhook = await waitFor('failed payout item webhook', () =>
      received.find((webhook) => webhook.event.event_type === 'PAYMENT.PAYOUTS-ITEM.FAILED' && webhook.event.resource.payout_item_id === failedByAmount.payout_item_id),
    );
    assert.equal(failedWebhook.event.resource.errors.name, 'RECEIVER_UNREGISTERED');
    assertPaypalError(await api('GET', '/v1/payments/payouts/NOSUCHBATCH00'), 404, 'RESOURCE_NOT_FOUND', 'INVALID_RESOURCE_ID');
  });

  test('a batch nobody reads completes after pendingCompletionDelayMs', async () => {
    const created = await api('POST', '/v1/payments/payouts', {
      body: { sender_batch_header: { sender_batch_id: `batch-${newRequestId()}` }, items: [{ amount: { value: '2.00', currency: 'EUR' }, receiver: 'late@example.com' }] },
    });
    assert.equal(created.status, 201);
    const itemWebhook = await waitFor('payout webhook without a GET', () =>
      received.find((webhook) => webhook.event.event_type === 'PAYMENT.PAYOUTS-ITEM.SUCCEEDED' && webhook.event.resource.payout_batch_id === created.body.batch_header.payout_batch_id),
    );
    assert.equal(itemWebhook.event.resource.payout_item.amount.value, '2.00');
  });
});

describe('vault', () => {
  test('store on success, pay merchant-initiated with the token, delete it', async () => {
    const { body: captured } = await capturedOrder('20.00', { vault: true, email: 'vaulted@example.com' });
    const vault = captured.payment_source.paypal.attributes.vault;
    assert.match(vault.id, /^[0-9a-z]{8}$/);
    assert.equal(vault.status, 'VAULTED');
    assert.ok(vault.customer.id);

    const token = await api('GET', `/v3/vault/payment-tokens/${vault.id}`);
    assert.equal(token.status, 200);
    assert.equal(token.body.customer.id, vault.customer.id);
    assert.equal(token.body.payment_source.paypal.email_address, 'vaulted@example.com');

    const merchantInitiated = await createOrder('21.00', { vaultId: vault.id });
    assert.equal(merchantInitiated.status, 'APPROVED');
    const capture = await api('POST', `/v2/checkout/orders/${merchantInitiated.id}/capture`, { requestId: newRequestId() });
    assert.equal(capture.status, 201, capture.text);
    assert.equal(capture.body.purchase_units[0].payments.captures[0].status, 'COMPLETED');
    assert.equal(capture.body.payer.email_address, 'vaulted@example.com');

    const deleted = await api('DELETE', `/v3/vault/payment-tokens/${vault.id}`);
    assert.equal(deleted.status, 204);
    assertPaypalError(await api('GET', `/v3/vault/payment-tokens/${vault.id}`), 404, 'RESOURCE_NOT_FOUND', 'INVALID_RESOURCE_ID');
    assertPaypalError(await api('POST', '/v2/checkout/orders', { body: orderBody('22.00', { vaultId: vault.id }) }), 422, 'UNPROCESSABLE_ENTITY', 'PAYMENT_SOURCE_CANNOT_BE_USED');
  });
});

describe('scenarios by amount', () => {
  test('scenario digits are the last two digits of the amount as PayPal prints it', () => {
    assert.equal(scenarioDigits(1001n, 'USD'), '01');
    assert.equal(scenarioDigits(1001n, 'JPY'), '01');
    assert.equal(scenarioDigits(1010n, 'USD'), '10');
    assert.equal(scenarioDigits(5n, 'JPY'), '05');
  });

  test('01: capture and authorize are declined with INSTRUMENT_DECLINED', async () => {
    const orderId = await approvedOrder('10.01');
    assertPaypalError(await api('POST', `/v2/checkout/orders/${orderId}/capture`, { requestId: newRequestId() }), 422, 'UNPROCESSABLE_ENTITY', 'INSTRUMENT_DECLINED');
    assert.equal((await api('GET', `/v2/checkout/orders/${orderId}`)).body.status, 'APPROVED');
    const authorizeOrderId = await approvedOrder('1001', { intent: 'AUTHORIZE', currency: 'JPY' });
    assertPaypalError(await api('POST', `/v2/checkout/orders/${authorizeOrderId}/authorize`), 422, 'UNPROCESSABLE_ENTITY', 'INSTRUMENT_DECLINED');
  });

  test('02: the capture is PENDING, then COMPLETED by webhook', async () => {
    const { captureId, body } = await capturedOrder('10.02');
    const capture = body.purchase_units[0].payments.captures[0];
    assert.equal(capture.status, 'PENDING');
    assert.equal(capture.status_details.reason, 'PENDING_REVIEW');
    assert.equal(body.status, 'COMPLETED');
    await waitForWebhook('PAYMENT.CAPTURE.PENDING', captureId);
    assertPaypalError(await api('POST', `/v2/payments/captures/${captureId}/refund`), 422, 'UNPROCESSABLE_ENTITY', 'PENDING_CAPTURE');
    const completed = await waitForWebhook('PAYMENT.CAPTURE.COMPLETED', captureId);
    assert.equal(completed.event.resource.status, 'COMPLETED');
    assert.equal((await api('GET', `/v2/payments/captures/${captureId}`)).body.status, 'COMPLETED');
  });

  test('payer email with +denied: the capture is PENDING, then DECLINED (PAYMENT.CAPTURE.DENIED)', async () => {
    const { captureId, body } = await capturedOrder('10.00', { email: 'buyer+denied@example.com' });
    assert.equal(body.purchase_units[0].payments.captures[0].status, 'PENDING');
    const denied = await waitForWebhook('PAYMENT.CAPTURE.DENIED', captureId);
    assert.equal(denied.event.resource.status, 'DECLINED');
    assert.equal((await api('GET', `/v2/payments/captures/${captureId}`)).body.status, 'DECLINED');
  });

  test('03: the capture answers late but is done at once; a retry with the same request id gets it immediately', async () => {
    const orderId = await approvedOrder('10.03');
    const requestId = newRequestId();
    const startedAt = Date.now();
    await assert.rejects(api('POST', `/v2/checkout/orders/${orderId}/capture`, { requestId, signal: AbortSignal.timeout(150) }));
    const order = await api('GET', `/v2/checkout/orders/${orderId}`);
    assert.equal(order.body.status, 'COMPLETED');
    assert.ok(Date.now() - startedAt < timeoutScenarioDelayMs, 'the order was complete before the stalled answer');
    const retryStartedAt = Date.now();
    const retry = await api('POST', `/v2/checkout/orders/${orderId}/capture`, { requestId });
    assert.equal(retry.status, 201);
    assert.ok(Date.now() - retryStartedAt < timeoutScenarioDelayMs, 'the replay does not stall');
    assert.equal(retry.body.purchase_units[0].payments.captures[0].status, 'COMPLETED');

    const patientOrderId = await approvedOrder('20.03');
    const patientStartedAt = Date.now();
    const patient = await api('POST', `/v2/checkout/orders/${patientOrderId}/capture`);
    assert.equal(patient.status, 201);
    assert.ok(Date.now() - patientStartedAt >= timeoutScenarioDelayMs);
  });

  test('04: refund declined with REFUND_NOT_ALLOWED', async () => {
    const { captureId } = await capturedOrder('10.04');
    assertPaypalError(await api('POST', `/v2/payments/captures/${captureId}/refund`), 422, 'UNPROCESSABLE_ENTITY', 'REFUND_NOT_ALLOWED');
    const other = await capturedOrder('10.00');
    assertPaypalError(
      await api('POST', `/v2/payments/captures/${other.captureId}/refund`, { body: { amount: { currency_code: 'USD', value: '1.04' } } }),
      422,
      'UNPROCESSABLE_ENTITY',
      'REFUND_NOT_ALLOWED',
    );
    assert.equal((await api('GET', `/v2/payments/captures/${captureId}`)).body.status, 'COMPLETED');
  });

  test('06: authorization capture declined; 07: void declined', async () => {
    const declinedCapture = await authorizedOrder('10.06');
    assertPaypalError(await api('POST', `/v2/payments/authorizations/${declinedCapture.authorizationId}/capture`), 422, 'UNPROCESSABLE_ENTITY', 'AUTHORIZATION_VOIDED');
    assert.equal((await api('GET', `/v2/payments/authorizations/${declinedCapture.authorizationId}`)).body.status, 'CREATED');
    assert.equal((await api('POST', `/v2/payments/authorizations/${declinedCapture.authorizationId}/void`)).status, 204);

    const declinedVoid = await authorizedOrder('10.07');
    assertPaypalError(await api('POST', `/v2/payments/authorizations/${declinedVoid.authorizationId}/void`), 422, 'UNPROCESSABLE_ENTITY', 'PREVIOUSLY_CAPTURED');
    assert.equal((await api('GET', `/v2/payments/authorizations/${declinedVoid.authorizationId}`)).body.status, 'CREATED');
    assert.equal((await api('POST', `/v2/payments/authorizations/${declinedVoid.authorizationId}/capture`)).status, 201);
  });

  test('08: every webhook of the order arrives twice, same event id', async () => {
    const { orderId, captureId } = await capturedOrder('10.08');
    await waitFor('two approvals', () => (webhooksFor('CHECKOUT.ORDER.APPROVED', orderId).length === 2 ? true : undefined));
    const copies = await waitFor('two captures', () => {
      const found = webhooksFor('PAYMENT.CAPTURE.COMPLETED', captureId);
      return found.length === 2 ? found : undefined;
    });
    assert.equal(copies[0]!.event.id, copies[1]!.event.id);
    assert.equal(copies[0]!.rawBody, copies[1]!.rawBody);
    assert.notEqual(copies[0]!.headers['paypal-transmission-id'], copies[1]!.headers['paypal-transmission-id']);
  });

  test('09: the first create for a request id answers 503 and creates nothing; the retry succeeds', async () => {
    const requestId = newRequestId();
    const body = orderBody('10.09');
    const before = await database.pool.query('SELECT count(*)::int AS count FROM paypal_sandbox.orders');
    assertPaypalError(await api('POST', '/v2/checkout/orders', { body, requestId }), 503, 'SERVICE_UNAVAILABLE', 'SERVICE_UNAVAILABLE');
    const between = await database.pool.query('SELECT count(*)::int AS count FROM paypal_sandbox.orders');
    assert.equal(between.rows[0].count, before.rows[0].count);
    const retry = await api('POST', '/v2/checkout/orders', { body, requestId });
    assert.equal(retry.status, 201);
    const again = await api('POST', '/v2/checkout/orders', { body, requestId });
    assert.equal(again.text, retry.text);
  });
});

describe('webhooks', () => {
  test('deliveries carry PayPal headers and verify; a tampered event does not', async () => {
    const { captureId } = await capturedOrder('23.00');
    const webhook = await waitForWebhook('PAYMENT.CAPTURE.COMPLETED', captureId);
    assert.match(webhook.event.id, /^WH-[0-9A-Z]{17}-[0-9A-Z]{17}$/);
    assert.equal(webhook.event.event_version, '1.0');
    assert.equal(webhook.event.resource_type, 'capture');
    assert.match(webhook.event.create_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(typeof webhook.event.summary, 'string');
    assert.ok(Array.isArray(webhook.event.links));
    assert.equal(webhook.headers['content-type'], 'application/json');
    assert.equal(webhook.headers['paypal-auth-algo'], 'SHA256withRSA');
    assert.ok(webhook.headers['paypal-transmission-id']);
    assert.ok(webhook.headers['paypal-transmission-time']);
    assert.ok(webhook.headers['paypal-transmission-sig']);
    assert.match(String(webhook.headers['paypal-cert-url']), new RegExp(`^${sandbox}/v1/notifications/certs/CERT-`));

    assert.equal(await verifySignature(webhook), 'SUCCESS');
    const tampered = JSON.parse(webhook.rawBody);
    tampered.resource.amount.value = '2300.00';
    assert.equal(await verifySignature(webhook, tampered), 'FAILURE');
    assert.equal(await verifySignature(webhook, webhook.event, { webhook_id: 'WH-SOMEONE-ELSE' }), 'FAILURE');
    assert.equal(await verifySignature(webhook, webhook.event, { transmission_id: 'another' }), 'FAILURE');

    // Offline, as PayPal documents it: fetch the certificate and check the signature with it.
    const certificateResponse = await fetch(String(webhook.headers['paypal-cert-url']));
    assert.equal(certificateResponse.status, 200);
    const certificatePem = await certificateResponse.text();
    const certificate = new X509Certificate(certificatePem);
    assert.ok(certificate.verify(certificate.publicKey));
    const fields = {
      transmissionId: String(webhook.headers['paypal-transmission-id']),
      transmissionTime: String(webhook.headers['paypal-transmission-time']),
      webhookId,
      rawBody: webhook.rawBody,
    };
    assert.ok(webhookSignatureIsValid(fields, String(webhook.headers['paypal-transmission-sig']), certificatePem));
    assert.ok(!webhookSignatureIsValid({ ...fields, rawBody: `${webhook.rawBody} ` }, String(webhook.headers['paypal-transmission-sig']), certificatePem));

    const stored = await api('GET', `/v1/notifications/webhooks-events/${webhook.event.id}`);
    assert.equal(stored.text, webhook.rawBody);
  });

  test('crc32 matches the IEEE check value', () => {
    assert.equal(crc32('123456789'), 0xcbf43926);
  });

  test('a receiver that is down gets bounded retries and does not disturb the sandbox', async () => {
    receiverStatusCode = 500;
    try {
      const { captureId } = await capturedOrder('24.00');
      const failed = await waitFor('a recorded failed attempt', async () => {
        const rows = await database.pool.query(
          `SELECT d.attempts, d.last_status_code, d.next_attempt_at FROM paypal_sandbox.webhook_deliveries d
           JOIN paypal_sandbox.webhook_events e ON e.id = d.event_id
           WHERE e.resource_id = $1 AND e.event_type = 'PAYMENT.CAPTURE.COMPLETED'`,
          [captureId],
        );
        return rows.rows[0]?.last_status_code === 500 ? rows.rows[0] : undefined;
      });
      assert.ok(failed, 'the failed attempt is recorded');
      assert.equal(failed.attempts, 1);
      assert.ok(failed.next_attempt_at, 'a retry is scheduled');
      assert.equal((await api('GET', `/v2/payments/captures/${captureId}`)).status, 200);
      receiverStatusCode = 200;
      const delivered = await waitForWebhook('PAYMENT.CAPTURE.COMPLETED', captureId, 5_000);
      assert.equal(await verifySignature(delivered), 'SUCCESS');
    } finally {
      receiverStatusCode = 200;
    }
  });

  test('no webhook URL: events are kept but not sent', async () => {
    webhookTarget = undefined;
    try {
      const { captureId } = await capturedOrder('25.00');
      const deliveries = await database.pool.query(
        `SELECT count(*)::int AS count FROM paypal_sandbox.webhook_deliveries d JOIN paypal_sandbox.webhook_events e ON e.id = d.event_id WHERE e.resource_id = $1`,
        [captureId],
      );
      assert.equal(deliveries.rows[0].count, 0);
    } finally {
      webhookTarget = receiverUrl;
    }
  });
});

describe('disputes (test helper)', () => {
  test('POST /_test/disputes raises CUSTOMER.DISPUTE.CREATED with PayPal’s dispute shape', async () => {
    const { captureId } = await capturedOrder('26.00');
    const raised = await fetch(`${sandbox}/_test/disputes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ capture_id: captureId, reason: 'UNAUTHORISED' }),
    });
    assert.equal(raised.status, 201);
    const dispute = (await raised.json()) as any;
    assert.match(dispute.dispute_id, /^PP-D-\d+$/);
    const webhook = await waitFor('dispute webhook', () =>
      received.find((candidate) => candidate.event.event_type === 'CUSTOMER.DISPUTE.CREATED' && candidate.event.resource.dispute_id === dispute.dispute_id),
    );
    const resource = webhook.event.resource;
    assert.equal(webhook.event.resource_type, 'dispute');
    assert.equal(resource.disputed_transactions[0].seller_transaction_id, captureId);
    assert.equal(resource.reason, 'UNAUTHORISED');
    assert.equal(resource.status, 'OPEN');
    assert.deepEqual(resource.dispute_amount, { currency_code: 'USD', value: '26.00' });
    const fetched = await api('GET', `/v1/customer/disputes/${dispute.dispute_id}`);
    assert.equal(fetched.body.dispute_id, dispute.dispute_id);
    const unknown = await fetch(`${sandbox}/_test/disputes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ capture_id: 'NOPE' }) });
    assert.equal(unknown.status, 404);
  });
});

describe('durability', () => {
  test('state and pending work survive a restart of the sandbox', async () => {
    const { captureId, orderId } = await capturedOrder('27.02');
    const port = Number(new URL(origin).port);
    await app.close();
    await startSandbox(port);
    cachedToken = undefined;
    assert.equal((await api('GET', `/v2/checkout/orders/${orderId}`)).body.status, 'COMPLETED');
    const completed = await waitForWebhook('PAYMENT.CAPTURE.COMPLETED', captureId);
    assert.equal(await verifySignature(completed), 'SUCCESS');
  });
});

describe('documentation', () => {
  const readme = readFileSync(new URL('../src/sandbox/paypal/README.md', import.meta.url), 'utf8');

  test('the README scenario table lists exactly the scenario registry', () => {
    const rows = [...readme.matchAll(/^\| `(\d\d)` \|/gm)].map((match) => match[1]);
    assert.deepEqual(rows, Object.keys(scenarios));
  });

  test('the README error table lists every issue', () => {
    for (const issue of Object.keys(issues)) assert.match(readme, new RegExp(`\\| \`${issue}\` \\|`), `${issue} documented`);
  });
});
