/**
 * Payments v2: authorizations (show, capture, void), captures (show, refund)
 * and refunds (show), plus the settling of PENDING captures. Every change
 * locks the row it changes first, so concurrent captures of one authorization
 * or refunds of one capture are serialized and can never exceed its amount.
 */
import type { FastifyInstance } from 'fastify';
import type { SandboxContext } from './context.ts';
import { SandboxError } from './errors.ts';
import { jsonObjectBody, optionalString, runIdempotent, wantsRepresentation, type ActionResult } from './http.ts';
import { newResourceId } from './ids.ts';
import { formatAmount, parseMoney } from './money.ts';
import {
  assertNever,
  authorizationRepresentation,
  authorizationStatusAt,
  captureRepresentation,
  refundRepresentation,
} from './representations.ts';
import { payerCaptureIsDenied, scenarioFor, webhookCopiesFor } from './scenarios.ts';
import {
  findAuthorization,
  findCapture,
  findOrder,
  findRefund,
  insertCapture,
  insertRefund,
  updateAuthorization,
  updateCapture,
  withConnection,
  type CaptureRecord,
  type Client,
  type OrderRecord,
  type RefundRecord,
} from './store.ts';
import { recordWebhookEvent } from './webhooks.ts';

async function orderOf(client: Client, orderId: string): Promise<OrderRecord> {
  const order = await findOrder(client, orderId);
  if (!order) throw new Error(`payment refers to missing order ${orderId}`);
  return order;
}

const minimal = (id: string, status: string, body: Record<string, unknown>) => ({ id, status, links: body.links });

// ---------------------------------------------------------------------------
// Authorizations

async function lockAuthorization(client: Client, id: string) {
  const authorization = await findAuthorization(client, id, { forUpdate: true });
  if (!authorization) throw new SandboxError('INVALID_RESOURCE_ID', { field: 'authorization_id', value: id, location: 'path' });
  return authorization;
}

async function captureAuthorization(
  context: SandboxContext,
  client: Client,
  authorizationId: string,
  body: Record<string, unknown>,
  representation: boolean,
): Promise<ActionResult> {
  const authorization = await lockAuthorization(client, authorizationId);
  const order = await orderOf(client, authorization.orderId);
  const now = context.now();
  const status = authorizationStatusAt(authorization, now);
  switch (status) {
    case 'VOIDED':
      throw new SandboxError('AUTHORIZATION_VOIDED', { field: 'authorization_id', value: authorization.id, location: 'path' });
    case 'CAPTURED':
      throw new SandboxError('AUTHORIZATION_ALREADY_CAPTURED', { field: 'authorization_id', value: authorization.id, location: 'path' });
    case 'EXPIRED':
      throw new SandboxError('AUTHORIZATION_EXPIRED', { field: 'authorization_id', value: authorization.id, location: 'path' });
    case 'CREATED':
    case 'PARTIALLY_CAPTURED':
      break;
    default:
      assertNever(status);
  }
  const remainingMinor = authorization.amountMinor - authorization.capturedMinor;
  const requested = body.amount === undefined ? undefined : parseMoney(body.amount, '/amount');
  if (requested && requested.currency !== authorization.currency) {
    throw new SandboxError('CURRENCY_MISMATCH', { field: '/amount/currency_code', value: requested.currency, location: 'body' });
  }
  const amountMinor = requested?.amountMinor ?? remainingMinor;
  if (amountMinor > remainingMinor) throw new SandboxError('MAX_CAPTURE_AMOUNT_EXCEEDED', { field: '/amount/value', location: 'body' });
  if (body.final_capture !== undefined && typeof body.final_capture !== 'boolean') {
    throw new SandboxError('INVALID_PARAMETER_SYNTAX', { field: '/final_capture', location: 'body' });
  }
  if (scenarioFor(authorization.amountMinor, authorization.currency) === 'authorization_capture_declined') {
    throw new SandboxError('AUTHORIZATION_VOIDED', { field: 'authorization_id', value: authorization.id, location: 'path' });
  }
  const capturedMinor = authorization.capturedMinor + amountMinor;
  const finalCapture = body.final_capture === true || capturedMinor === authorization.amountMinor;
  const capture: CaptureRecord = {
    id: newResourceId(),
    orderId: order.id,
    authorizationId: authorization.id,
    status: 'COMPLETED',
    statusReason: null,
    currency: authorization.currency,
    amountMinor,
    refundedMinor: 0n,
    finalCapture,
    invoiceId: optionalString(body, 'invoice_id', '/invoice_id', 127) ?? (order.details.purchaseUnit.invoice_id as string | undefined) ?? null,
    customId: (order.details.purchaseUnit.custom_id as string | undefined) ?? null,
    noteToPayer: optionalString(body, 'note_to_payer', '/note_to_payer', 255) ?? null,
    createdAt: now,
    updatedAt: now,
  };
  await insertCapture(client, capture);
  await updateAuthorization(client, { id: authorization.id, status: finalCapture ? 'CAPTURED' : 'PARTIALLY_CAPTURED', capturedMinor, updatedAt: now });
  const resource = captureRepresentation(context, capture);
  await recordWebhookEvent(client, context, {
    eventType: 'PAYMENT.CAPTURE.COMPLETED',
    resourceId: capture.id,
    summary: `Payment completed for ${formatAmount(capture.amountMinor, capture.currency)} ${capture.currency}`,
    resource,
    copies: webhookCopiesFor(order.amountMinor, order.currency),
  });
  return {
    statusCode: 201,
    body: representation ? resource : minimal(capture.id, capture.status, resource),
    answerDelayMs: scenarioFor(order.amountMinor, order.currency) === 'slow_response' ? context.timeoutScenarioDelayMs : undefined,
  };
}

async function voidAuthorization(context: SandboxContext, client: Client, authorizationId: string, representation: boolean): Promise<ActionResult> {
  const authorization = await lockAuthorization(client, authorizationId);
  const order = await orderOf(client, authorization.orderId);
  const now = context.now();
  const status = authorizationStatusAt(authorization, now);
  switch (status) {
    case 'VOIDED':
      throw new SandboxError('PREVIOUSLY_VOIDED', { field: 'authorization_id', value: authorization.id, location: 'path' });
    case 'CAPTURED':
      throw new SandboxError('PREVIOUSLY_CAPTURED', { field: 'authorization_id', value: authorization.id, location: 'path' });
    case 'EXPIRED':
      throw new SandboxError('AUTHORIZATION_EXPIRED', { field: 'authorization_id', value: authorization.id, location: 'path' });
    case 'CREATED':
    case 'PARTIALLY_CAPTURED':
      break;
    default:
      assertNever(status);
  }
  if (scenarioFor(authorization.amountMinor, authorization.currency) === 'authorization_void_declined') {
    throw new SandboxError('PREVIOUSLY_CAPTURED', { field: 'authorization_id', value: authorization.id, location: 'path' });
  }
  const voided = { ...authorization, status: 'VOIDED' as const, updatedAt: now };
  await updateAuthorization(client, voided);
  const resource = authorizationRepresentation(context, voided, order);
  await recordWebhookEvent(client, context, {
    eventType: 'PAYMENT.AUTHORIZATION.VOIDED',
    resourceId: authorization.id,
    summary: 'A payment authorization was voided',
    resource,
    copies: webhookCopiesFor(order.amountMinor, order.currency),
  });
  // PayPal answers 204 unless the whole resource is asked for.
  return representation ? { statusCode: 200, body: resource } : { statusCode: 204, body: undefined };
}

// ---------------------------------------------------------------------------
// Captures and refunds

async function refundCapture(
  context: SandboxContext,
  client: Client,
  captureId: string,
  body: Record<string, unknown>,
  representation: boolean,
): Promise<ActionResult> {
  const capture = await findCapture(client, captureId, { forUpdate: true });
  if (!capture) throw new SandboxError('INVALID_RESOURCE_ID', { field: 'capture_id', value: captureId, location: 'path' });
  const order = await orderOf(client, capture.orderId);
  switch (capture.status) {
    case 'PENDING':
    case 'DECLINED':
      throw new SandboxError('PENDING_CAPTURE', { field: 'capture_id', value: capture.id, location: 'path' });
    case 'REFUNDED':
      throw new SandboxError('CAPTURE_FULLY_REFUNDED', { field: 'capture_id', value: capture.id, location: 'path' });
    case 'COMPLETED':
    case 'PARTIALLY_REFUNDED':
      break;
    default:
      assertNever(capture.status);
  }
  const remainingMinor = capture.amountMinor - capture.refundedMinor;
  const requested = body.amount === undefined ? undefined : parseMoney(body.amount, '/amount');
  if (requested && requested.currency !== capture.currency) {
    throw new SandboxError('REFUND_CAPTURE_CURRENCY_MISMATCH', { field: '/amount/currency_code', value: requested.currency, location: 'body' });
  }
  const amountMinor = requested?.amountMinor ?? remainingMinor;
  if (amountMinor > remainingMinor) throw new SandboxError('REFUND_AMOUNT_EXCEEDED', { field: '/amount/value', location: 'body' });
  if (scenarioFor(amountMinor, capture.currency) === 'refund_declined') {
    throw new SandboxError('REFUND_NOT_ALLOWED', { field: 'capture_id', value: capture.id, location: 'path' });
  }
  const now = context.now();
  const refund: RefundRecord = {
    id: newResourceId(),
    captureId: capture.id,
    status: 'COMPLETED',
    currency: capture.currency,
    amountMinor,
    invoiceId: optionalString(body, 'invoice_id', '/invoice_id', 127) ?? capture.invoiceId,
    customId: optionalString(body, 'custom_id', '/custom_id', 127) ?? capture.customId,
    noteToPayer: optionalString(body, 'note_to_payer', '/note_to_payer', 255) ?? null,
    createdAt: now,
    updatedAt: now,
  };
  const refundedMinor = capture.refundedMinor + amountMinor;
  const refunded: CaptureRecord = {
    ...capture,
    status: refundedMinor === capture.amountMinor ? 'REFUNDED' : 'PARTIALLY_REFUNDED',
    refundedMinor,
    updatedAt: now,
  };
  await insertRefund(client, refund);
  await updateCapture(client, refunded);
  const resource = refundRepresentation(context, refund, refunded);
  await recordWebhookEvent(client, context, {
    eventType: 'PAYMENT.CAPTURE.REFUNDED',
    resourceId: refund.id,
    summary: `A ${formatAmount(refund.amountMinor, refund.currency)} ${refund.currency} capture payment was refunded`,
    resource,
    copies: webhookCopiesFor(order.amountMinor, order.currency),
  });
  return { statusCode: 201, body: representation ? resource : minimal(refund.id, refund.status, resource) };
}

/**
 * Scheduled work: a PENDING capture completes (PAYMENT.CAPTURE.COMPLETED), or
 * is declined when the payer chose the `+denied` email (PAYMENT.CAPTURE.DENIED).
 */
export async function settlePendingCapture(context: SandboxContext, client: Client, captureId: string): Promise<void> {
  const capture = await findCapture(client, captureId, { forUpdate: true });
  if (!capture || capture.status !== 'PENDING') return;
  const order = await orderOf(client, capture.orderId);
  const denied = payerCaptureIsDenied(order.payer?.emailAddress);
  const settled: CaptureRecord = {
    ...capture,
    status: denied ? 'DECLINED' : 'COMPLETED',
    statusReason: denied ? 'DECLINED_BY_RISK_FRAUD_FILTERS' : null,
    updatedAt: context.now(),
  };
  await updateCapture(client, settled);
  const amount = `${formatAmount(settled.amountMinor, settled.currency)} ${settled.currency}`;
  await recordWebhookEvent(client, context, {
    eventType: denied ? 'PAYMENT.CAPTURE.DENIED' : 'PAYMENT.CAPTURE.COMPLETED',
    resourceId: settled.id,
    summary: denied ? `A payment capture for ${amount} was denied` : `Payment completed for ${amount}`,
    resource: captureRepresentation(context, settled),
    copies: webhookCopiesFor(order.amountMinor, order.currency),
  });
}

// ---------------------------------------------------------------------------
// Routes

export function registerPaymentRoutes(api: FastifyInstance, context: SandboxContext, prefix: string): void {
  api.get<{ Params: { id: string } }>('/v2/payments/authorizations/:id', (request) =>
    withConnection(context.pool, async (client) => {
      const authorization = await findAuthorization(client, request.params.id);
      if (!authorization) throw new SandboxError('INVALID_RESOURCE_ID', { field: 'authorization_id', value: request.params.id, location: 'path' });
      return authorizationRepresentation(context, authorization, await orderOf(client, authorization.orderId));
    }),
  );

  api.post<{ Params: { id: string } }>('/v2/payments/authorizations/:id/capture', async (request, reply) => {
    const body = jsonObjectBody(request, { required: false });
    return runIdempotent(context, request, reply, prefix, (client) =>
      captureAuthorization(context, client, request.params.id, body, wantsRepresentation(request)),
    );
  });

  api.post<{ Params: { id: string } }>('/v2/payments/authorizations/:id/void', async (request, reply) => {
    jsonObjectBody(request, { required: false });
    return runIdempotent(context, request, reply, prefix, (client) => voidAuthorization(context, client, request.params.id, wantsRepresentation(request)));
  });

  api.get<{ Params: { id: string } }>('/v2/payments/captures/:id', (request) =>
    withConnection(context.pool, async (client) => {
      const capture = await findCapture(client, request.params.id);
      if (!capture) throw new SandboxError('INVALID_RESOURCE_ID', { field: 'capture_id', value: request.params.id, location: 'path' });
      return captureRepresentation(context, capture);
    }),
  );

  api.post<{ Params: { id: string } }>('/v2/payments/captures/:id/refund', async (request, reply) => {
    const body = jsonObjectBody(request, { required: false });
    return runIdempotent(context, request, reply, prefix, (client) => refundCapture(context, client, request.params.id, body, wantsRepresentation(request)));
  });

  api.get<{ Params: { id: string } }>('/v2/payments/refunds/:id', (request) =>
    withConnection(context.pool, async (client) => {
      const refund = await findRefund(client, request.params.id);
      if (!refund) throw new SandboxError('INVALID_RESOURCE_ID', { field: 'refund_id', value: request.params.id, location: 'path' });
      const capture = await findCapture(client, refund.captureId);
      if (!capture) throw new Error(`refund ${refund.id} refers to missing capture ${refund.captureId}`);
      return refundRepresentation(context, refund, capture);
    }),
  );
}
