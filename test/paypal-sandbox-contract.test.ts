/**
 * Contract test: PayPal's official server SDK (@paypal/paypal-server-sdk)
 * drives the sandbox and must parse every answer into its typed results.
 *
 * The SDK only knows PayPal's two hosts. Its `unstable_httpClientOptions` are
 * spread into the axios instance it uses, so an axios `adapter` sends each
 * request to the sandbox instead (same method, headers and body, the host
 * swapped); everything above the transport is the SDK's own code.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AuthorizationStatus,
  CaptureStatus,
  CheckoutPaymentIntent,
  Client,
  CustomError,
  Environment,
  OrdersController,
  OrderStatus,
  PaymentsController,
  PaypalPaymentTokenUsageType,
  RefundStatus,
  StoreInVaultInstruction,
  VaultController,
} from '@paypal/paypal-server-sdk';
import Fastify, { type FastifyInstance } from 'fastify';
import { paypalSandboxPlugin } from '../src/sandbox/paypal/index.ts';
import { createTestDatabase, stopTestServer, type TestDatabase } from './support/database.ts';

const clientId = 'contract-client-id';
const clientSecret = 'contract-client-secret';
const paypalSandboxHost = 'https://api-m.sandbox.paypal.com';

interface AxiosLikeConfig {
  url?: string;
  method?: string;
  headers?: { toJSON?: () => Record<string, unknown> } & Record<string, unknown>;
  data?: unknown;
}

/** An axios adapter that sends the SDK's request to the sandbox with fetch. */
function sandboxAdapter(sandboxBaseUrl: string) {
  return async (config: AxiosLikeConfig) => {
    const url = String(config.url).replace(paypalSandboxHost, sandboxBaseUrl);
    const rawHeaders = typeof config.headers?.toJSON === 'function' ? config.headers.toJSON() : { ...config.headers };
    const headers = Object.fromEntries(Object.entries(rawHeaders).filter(([, value]) => value !== undefined && value !== null).map(([name, value]) => [name, String(value)]));
    const response = await fetch(url, {
      method: (config.method ?? 'get').toUpperCase(),
      headers,
      body: config.data === undefined || config.data === null ? undefined : String(config.data),
    });
    return {
      data: await response.text(),
      status: response.status,
      statusText: response.statusText,
      headers: Object.fromEntries(response.headers),
      config,
      request: {},
    };
  };
}

let database: TestDatabase;
let app: FastifyInstance;
let sandboxBaseUrl: string;
let orders: OrdersController;
let payments: PaymentsController;
let vault: VaultController;

before(async () => {
  database = await createTestDatabase();
  app = Fastify();
  // The approval page and links need the public URL before listening: bind first, then register on a known port.
  const probe = Fastify();
  await probe.listen({ port: 0, host: '127.0.0.1' });
  const port = (probe.server.address() as { port: number }).port;
  await probe.close();
  sandboxBaseUrl = `http://127.0.0.1:${port}/sandbox/paypal`;
  await app.register(paypalSandboxPlugin, {
    prefix: '/sandbox/paypal',
    pool: database.pool,
    clientId,
    clientSecret,
    publicBaseUrl: sandboxBaseUrl,
    webhookUrl: () => undefined,
    webhookId: 'WH-CONTRACT',
    timeoutScenarioDelayMs: 200,
    pendingCompletionDelayMs: 200,
  });
  await app.listen({ port, host: '127.0.0.1' });
  const client = new Client({
    clientCredentialsAuthCredentials: { oAuthClientId: clientId, oAuthClientSecret: clientSecret },
    environment: Environment.Sandbox,
    timeout: 10_000,
    unstable_httpClientOptions: { adapter: sandboxAdapter(sandboxBaseUrl) },
  });
  orders = new OrdersController(client);
  payments = new PaymentsController(client);
  vault = new VaultController(client);
});

after(async () => {
  await app?.close();
  await database?.drop();
  await stopTestServer();
});

/** The payer clicks "Pay" on the approval page (a plain form post, as a browser would send it). */
async function approve(approvalUrl: string): Promise<void> {
  const response = await fetch(approvalUrl, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ action: 'approve', email: 'contract.buyer@example.com' }),
  });
  assert.equal(response.status, 303);
}

function link(links: Array<{ rel: string; href: string }> | undefined, rel: string): string {
  const found = links?.find((candidate) => candidate.rel === rel);
  assert.ok(found, `link ${rel} present`);
  return found.href;
}

async function createApprovedOrder(intent: CheckoutPaymentIntent, value: string) {
  const { result: created, statusCode } = await orders.createOrder({
    body: {
      intent,
      purchaseUnits: [{ referenceId: 'contract', amount: { currencyCode: 'USD', value }, customId: 'custom-1', invoiceId: `inv-${Date.now()}-${value}` }],
      paymentSource: { paypal: { experienceContext: { returnUrl: 'https://merchant.example/return', cancelUrl: 'https://merchant.example/cancel' } } },
    },
    paypalRequestId: `create-${intent}-${value}-${Date.now()}`,
  });
  assert.equal(statusCode, 201);
  assert.equal(created.status, OrderStatus.PayerActionRequired);
  assert.match(created.id!, /^[0-9A-Z]{17}$/);
  await approve(link(created.links, 'payer-action'));
  return created.id!;
}

describe('PayPal server SDK against the sandbox', () => {
  test('orders: create, get, capture; captures: get, refund; refunds: get', async () => {
    const orderId = await createApprovedOrder(CheckoutPaymentIntent.Capture, '25.00');

    const { result: fetched } = await orders.getOrder({ id: orderId });
    assert.equal(fetched.status, OrderStatus.Approved);
    assert.equal(fetched.intent, CheckoutPaymentIntent.Capture);
    assert.equal(fetched.purchaseUnits?.[0]?.amount?.value, '25.00');
    assert.equal(fetched.purchaseUnits?.[0]?.customId, 'custom-1');
    assert.equal(fetched.payer?.emailAddress, 'contract.buyer@example.com');

    const { result: captured, statusCode } = await orders.captureOrder({ id: orderId, paypalRequestId: `capture-${orderId}`, prefer: 'return=representation' });
    assert.equal(statusCode, 201);
    assert.equal(captured.status, OrderStatus.Completed);
    const capture = captured.purchaseUnits?.[0]?.payments?.captures?.[0];
    assert.ok(capture?.id);
    assert.equal(capture.status, CaptureStatus.Completed);
    assert.equal(capture.amount?.value, '25.00');
    assert.equal(capture.sellerReceivableBreakdown?.grossAmount.value, '25.00');
    assert.equal(captured.paymentSource?.paypal?.emailAddress, 'contract.buyer@example.com');
    assert.equal(captured.payer?.name?.givenName, 'Contract');

    const { result: capturedPayment } = await payments.getCapturedPayment({ captureId: capture.id });
    assert.equal(capturedPayment.id, capture.id);
    assert.equal(capturedPayment.status, CaptureStatus.Completed);
    assert.equal(capturedPayment.supplementaryData?.relatedIds?.orderId, orderId);

    const { result: refund, statusCode: refundStatusCode } = await payments.refundCapturedPayment({
      captureId: capture.id,
      paypalRequestId: `refund-${capture.id}`,
      prefer: 'return=representation',
      body: { amount: { currencyCode: 'USD', value: '10.00' }, noteToPayer: 'partial' },
    });
    assert.equal(refundStatusCode, 201);
    assert.equal(refund.status, RefundStatus.Completed);
    assert.equal(refund.amount?.value, '10.00');
    assert.equal(refund.sellerPayableBreakdown?.totalRefundedAmount?.value, '10.00');

    const { result: fetchedRefund } = await payments.getRefund({ refundId: refund.id! });
    assert.equal(fetchedRefund.id, refund.id);
    assert.equal(fetchedRefund.status, RefundStatus.Completed);

    const { result: afterRefund } = await payments.getCapturedPayment({ captureId: capture.id });
    assert.equal(afterRefund.status, CaptureStatus.PartiallyRefunded);

    await assert.rejects(
      payments.refundCapturedPayment({ captureId: capture.id, body: { amount: { currencyCode: 'USD', value: '15.01' } } }),
      (error: unknown) => {
        assert.ok(error instanceof CustomError);
        assert.equal(error.statusCode, 422);
        assert.equal(error.result?.name, 'UNPROCESSABLE_ENTITY');
        assert.equal(error.result?.details?.[0]?.issue, 'REFUND_AMOUNT_EXCEEDED');
        return true;
      },
    );
  });

  test('orders: authorize; authorizations: get, capture, void', async () => {
    const orderId = await createApprovedOrder(CheckoutPaymentIntent.Authorize, '40.00');
    const { result: authorized, statusCode } = await orders.authorizeOrder({ id: orderId, paypalRequestId: `authorize-${orderId}` });
    assert.equal(statusCode, 201);
    assert.equal(authorized.status, OrderStatus.Completed);
    const authorization = authorized.purchaseUnits?.[0]?.payments?.authorizations?.[0];
    assert.ok(authorization?.id);
    assert.equal(authorization.status, AuthorizationStatus.Created);
    assert.ok(authorization.expirationTime);

    const { result: fetched } = await payments.getAuthorizedPayment({ authorizationId: authorization.id });
    assert.equal(fetched.status, AuthorizationStatus.Created);
    assert.equal(fetched.amount?.value, '40.00');
    assert.equal(fetched.supplementaryData?.relatedIds?.orderId, orderId);

    const { result: partialCapture } = await payments.captureAuthorizedPayment({
      authorizationId: authorization.id,
      paypalRequestId: `auth-capture-${authorization.id}`,
      prefer: 'return=representation',
      body: { amount: { currencyCode: 'USD', value: '15.00' }, finalCapture: false },
    });
    assert.equal(partialCapture.status, CaptureStatus.Completed);
    assert.equal(partialCapture.amount?.value, '15.00');
    assert.equal(partialCapture.finalCapture, false);
    assert.equal(partialCapture.supplementaryData?.relatedIds?.authorizationId, authorization.id);

    const { result: minimalCapture } = await payments.captureAuthorizedPayment({ authorizationId: authorization.id, body: { finalCapture: true } });
    assert.equal(minimalCapture.status, CaptureStatus.Completed);
    const { result: fullyCaptured } = await payments.getAuthorizedPayment({ authorizationId: authorization.id });
    assert.equal(fullyCaptured.status, AuthorizationStatus.Captured);

    const voidOrderId = await createApprovedOrder(CheckoutPaymentIntent.Authorize, '12.00');
    const { result: toVoid } = await orders.authorizeOrder({ id: voidOrderId });
    const voidAuthorizationId = toVoid.purchaseUnits![0]!.payments!.authorizations![0]!.id!;
    const { result: voided, statusCode: voidStatusCode } = await payments.voidPayment({ authorizationId: voidAuthorizationId });
    assert.equal(voidStatusCode, 204);
    assert.equal(voided, null);
    const { result: afterVoid } = await payments.getAuthorizedPayment({ authorizationId: voidAuthorizationId });
    assert.equal(afterVoid.status, AuthorizationStatus.Voided);

    const representedOrderId = await createApprovedOrder(CheckoutPaymentIntent.Authorize, '13.00');
    const { result: toVoidAgain } = await orders.authorizeOrder({ id: representedOrderId });
    const representedId = toVoidAgain.purchaseUnits![0]!.payments!.authorizations![0]!.id!;
    const { result: represented, statusCode: representedStatusCode } = await payments.voidPayment({ authorizationId: representedId, prefer: 'return=representation' });
    assert.equal(representedStatusCode, 200);
    assert.equal(represented?.status, AuthorizationStatus.Voided);

    await assert.rejects(payments.captureAuthorizedPayment({ authorizationId: voidAuthorizationId }), (error: unknown) => {
      assert.ok(error instanceof CustomError);
      assert.equal(error.statusCode, 422);
      assert.equal(error.result?.details?.[0]?.issue, 'AUTHORIZATION_VOIDED');
      return true;
    });
  });

  test('vault: store on success, read and delete the payment token', async () => {
    const { result: created } = await orders.createOrder({
      body: {
        intent: CheckoutPaymentIntent.Capture,
        purchaseUnits: [{ amount: { currencyCode: 'USD', value: '5.00' } }],
        paymentSource: {
          paypal: {
            experienceContext: { returnUrl: 'https://merchant.example/return', cancelUrl: 'https://merchant.example/cancel' },
            attributes: { vault: { storeInVault: StoreInVaultInstruction.OnSuccess, usageType: PaypalPaymentTokenUsageType.Merchant } },
          },
        },
      },
    });
    await approve(link(created.links, 'payer-action'));
    const { result: captured } = await orders.captureOrder({ id: created.id! });
    const vaulted = captured.paymentSource?.paypal?.attributes?.vault;
    assert.ok(vaulted?.id);
    assert.equal(vaulted.status, 'VAULTED');
    assert.ok(vaulted.customer?.id);

    const { result: token } = await vault.getPaymentToken(vaulted.id);
    assert.equal(token.id, vaulted.id);
    assert.equal(token.customer?.id, vaulted.customer.id);
    assert.equal(token.paymentSource?.paypal?.emailAddress, 'contract.buyer@example.com');

    const { statusCode } = await vault.deletePaymentToken(vaulted.id);
    assert.equal(statusCode, 204);
    await assert.rejects(vault.getPaymentToken(vaulted.id), (error: unknown) => error instanceof CustomError && error.statusCode === 404);
  });

  test('errors: unknown order and unapproved capture arrive as typed CustomError', async () => {
    await assert.rejects(orders.getOrder({ id: 'UNKNOWN0000000000' }), (error: unknown) => {
      assert.ok(error instanceof CustomError);
      assert.equal(error.statusCode, 404);
      assert.equal(error.result?.name, 'RESOURCE_NOT_FOUND');
      return true;
    });
    const { result: created } = await orders.createOrder({
      body: { intent: CheckoutPaymentIntent.Capture, purchaseUnits: [{ amount: { currencyCode: 'EUR', value: '7.50' } }] },
    });
    assert.equal(created.status, OrderStatus.Created);
    link(created.links, 'approve');
    await assert.rejects(orders.captureOrder({ id: created.id! }), (error: unknown) => {
      assert.ok(error instanceof CustomError);
      assert.equal(error.statusCode, 422);
      assert.equal(error.result?.details?.[0]?.issue, 'ORDER_NOT_APPROVED');
      return true;
    });
  });
});
