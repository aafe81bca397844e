/**
 * Orders v2: create, show, capture and authorize. Each handler reads as the
 * step list: parse, (idempotency), lock, check, decide by scenario, write,
 * record webhooks, answer.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { SandboxContext } from './context.ts';
import { SandboxError } from './errors.ts';
import { endpointKey, jsonObjectBody, optionalObject, optionalString, requestIdOf, runIdempotent, wantsRepresentation, type ActionResult } from './http.ts';
import { newPaymentTokenId, newResourceId, vaultCustomerId } from './ids.ts';
import { formatAmount, parseMoney } from './money.ts';
import {
  assertNever,
  authorizationRepresentation,
  captureRepresentation,
  orderRepresentation,
  type OrderView,
} from './representations.ts';
import { payerCaptureIsDenied, scenarioFor, webhookCopiesFor } from './scenarios.ts';
import {
  findOrder,
  findVaultToken,
  insertAuthorization,
  insertCapture,
  insertOrder,
  insertVaultToken,
  listChildrenOfOrder,
  recordFirstAttempt,
  scheduleWork,
  updateOrderFrom,
  withConnection,
  WriteBatch,
  type AuthorizationRecord,
  type CaptureRecord,
  type Client,
  type Writer,
  type OrderDetails,
  type OrderIntent,
  type OrderRecord,
  type OrderStatus,
} from './store.ts';
import { recordWebhookEvent } from './webhooks.ts';

/** PayPal keeps an authorization capturable for 29 days. */
export const authorizationLifetimeMs = 29 * 24 * 60 * 60 * 1000;

/** Purchase unit fields echoed back as sent. */
const echoedPurchaseUnitFields = ['reference_id', 'description', 'custom_id', 'invoice_id', 'soft_descriptor', 'items', 'shipping'] as const;

interface CreateOrderInput {
  intent: OrderIntent;
  currency: string;
  amountMinor: bigint;
  details: OrderDetails;
}

function absoluteUrl(value: string | undefined, field: string): string | undefined {
  if (value === undefined) return undefined;
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return value;
  } catch {
    // Reported below.
  }
  throw new SandboxError('INVALID_PARAMETER_SYNTAX', { field, value, location: 'body' });
}

function parseCreateOrder(body: Record<string, unknown>): CreateOrderInput {
  const intent = body.intent;
  if (intent === undefined) throw new SandboxError('MISSING_REQUIRED_PARAMETER', { field: '/intent', location: 'body' });
  if (intent !== 'CAPTURE' && intent !== 'AUTHORIZE') throw new SandboxError('INVALID_PARAMETER_VALUE', { field: '/intent', value: String(intent), location: 'body' });
  const purchaseUnits = body.purchase_units;
  if (purchaseUnits === undefined) throw new SandboxError('MISSING_REQUIRED_PARAMETER', { field: '/purchase_units', location: 'body' });
  // The sandbox models the common case of one purchase unit per order.
  if (!Array.isArray(purchaseUnits) || purchaseUnits.length !== 1 || typeof purchaseUnits[0] !== 'object' || purchaseUnits[0] === null) {
    throw new SandboxError('INVALID_PARAMETER_VALUE', { field: '/purchase_units', location: 'body' });
  }
  const unit = purchaseUnits[0] as Record<string, unknown>;
  const { currency, amountMinor } = parseMoney(unit.amount, '/purchase_units/0/amount');
  const purchaseUnit: Record<string, unknown> = {};
  for (const field of echoedPurchaseUnitFields) if (unit[field] !== undefined) purchaseUnit[field] = unit[field];
  for (const field of ['reference_id', 'description', 'custom_id', 'invoice_id', 'soft_descriptor']) {
    optionalString(unit, field, `/purchase_units/0/${field}`, 256);
  }

  const applicationContext = optionalObject(body, 'application_context', '/application_context') ?? {};
  const paymentSource = optionalObject(body, 'payment_source', '/payment_source');
  const paypal = paymentSource ? optionalObject(paymentSource, 'paypal', '/payment_source/paypal') : undefined;
  const token = paymentSource ? optionalObject(paymentSource, 'token', '/payment_source/token') : undefined;
  if (paymentSource && !paypal && !token) throw new SandboxError('INVALID_PARAMETER_VALUE', { field: '/payment_source', location: 'body' });
  const experience = paypal ? (optionalObject(paypal, 'experience_context', '/payment_source/paypal/experience_context') ?? {}) : {};
  const attributes = paypal ? (optionalObject(paypal, 'attributes', '/payment_source/paypal/attributes') ?? {}) : {};
  const vault = optionalObject(attributes, 'vault', '/payment_source/paypal/attributes/vault');
  const customer = optionalObject(attributes, 'customer', '/payment_source/paypal/attributes/customer');
  const vaultIdUsed = (paypal ? optionalString(paypal, 'vault_id', '/payment_source/paypal/vault_id', 64) : undefined) ??
    (token ? optionalString(token, 'id', '/payment_source/token/id', 64) : undefined);

  const details: OrderDetails = {
    purchaseUnit,
    amountBreakdown: (unit.amount as Record<string, unknown>).breakdown,
    returnUrl: absoluteUrl(
      optionalString(experience, 'return_url', '/payment_source/paypal/experience_context/return_url') ??
        optionalString(applicationContext, 'return_url', '/application_context/return_url'),
      'return_url',
    ),
    cancelUrl: absoluteUrl(
      optionalString(experience, 'cancel_url', '/payment_source/paypal/experience_context/cancel_url') ??
        optionalString(applicationContext, 'cancel_url', '/application_context/cancel_url'),
      'cancel_url',
    ),
    brandName:
      optionalString(experience, 'brand_name', '/payment_source/paypal/experience_context/brand_name', 127) ??
      optionalString(applicationContext, 'brand_name', '/application_context/brand_name', 127),
    approvalLinkRel: vaultIdUsed ? undefined : paypal ? 'payer-action' : 'approve',
    paymentSourceRequested: paymentSource !== undefined,
    vaultIdUsed,
    vaultInstruction:
      vault?.store_in_vault === 'ON_SUCCESS'
        ? {
            usageType: optionalString(vault, 'usage_type', '/payment_source/paypal/attributes/vault/usage_type', 32) ?? 'MERCHANT',
            customerType: optionalString(vault, 'customer_type', '/payment_source/paypal/attributes/vault/customer_type', 32) ?? 'CONSUMER',
            customerId: customer ? optionalString(customer, 'id', '/payment_source/paypal/attributes/customer/id', 64) : undefined,
            merchantCustomerId: customer
              ? optionalString(customer, 'merchant_customer_id', '/payment_source/paypal/attributes/customer/merchant_customer_id', 64)
              : undefined,
          }
        : undefined,
  };
  return { intent, currency, amountMinor, details };
}

export async function loadOrderView(client: Client, order: OrderRecord): Promise<OrderView> {
  return { order, ...(await listChildrenOfOrder(client, order.id)) };
}

async function requireOrder(client: Client, id: string): Promise<OrderRecord> {
  const order = await findOrder(client, id);
  if (!order) throw new SandboxError('INVALID_RESOURCE_ID', { field: 'order_id', value: id, location: 'path' });
  return order;
}

/** A merchant-initiated order pays with a vault token that must still exist. */
async function requireUsableVaultToken(client: Client, vaultId: string) {
  const token = await findVaultToken(client, vaultId);
  if (!token || token.status !== 'VAULTED') throw new SandboxError('PAYMENT_SOURCE_CANNOT_BE_USED', { field: '/payment_source/paypal/vault_id', value: vaultId, location: 'body' });
  return token;
}

async function createOrder(context: SandboxContext, client: Client, input: CreateOrderInput, representation: boolean): Promise<ActionResult> {
  const vaultToken = input.details.vaultIdUsed ? await requireUsableVaultToken(client, input.details.vaultIdUsed) : undefined;
  const status: OrderStatus = vaultToken ? 'APPROVED' : input.details.approvalLinkRel === 'payer-action' ? 'PAYER_ACTION_REQUIRED' : 'CREATED';
  const now = context.now();
  const order: OrderRecord = {
    id: newResourceId(),
    intent: input.intent,
    status,
    currency: input.currency,
    amountMinor: input.amountMinor,
    details: input.details,
    payer: vaultToken?.payer ?? null,
    vaultTokenId: null,
    createdAt: now,
    updatedAt: now,
  };
  const writes = new WriteBatch();
  await insertOrder(writes, order);
  const view: OrderView = { order, captures: [], authorizations: [], refunds: [] };
  return { statusCode: 201, body: orderRepresentation(context, view, representation ? 'full' : 'minimal'), writes };
}

/**
 * Checks shared by capture and authorize of an order; returns the order as
 * read, without a lock: the action's order update is a transition out of
 * APPROVED (`updateOrderFrom`), so of two concurrent captures one writes and
 * the other runs again and finds the order COMPLETED.
 */
async function readOrderForPayment(client: Client, orderId: string, action: OrderIntent): Promise<OrderRecord> {
  const order = await requireOrder(client, orderId);
  if (order.intent !== action) throw new SandboxError('ACTION_DOES_NOT_MATCH_INTENT', { field: 'intent', value: order.intent, location: 'body' });
  switch (order.status) {
    case 'CREATED':
    case 'PAYER_ACTION_REQUIRED':
      throw new SandboxError('ORDER_NOT_APPROVED', { field: 'order_id', value: order.id, location: 'path' });
    case 'COMPLETED':
      throw new SandboxError(action === 'CAPTURE' ? 'ORDER_ALREADY_CAPTURED' : 'ORDER_ALREADY_AUTHORIZED', { field: 'order_id', value: order.id, location: 'path' });
    case 'APPROVED':
      break;
    default:
      assertNever(order.status);
  }
  if (order.details.vaultIdUsed) await requireUsableVaultToken(client, order.details.vaultIdUsed);
  if (scenarioFor(order.amountMinor, order.currency) === 'instrument_declined') {
    throw new SandboxError('INSTRUMENT_DECLINED', { field: 'payment_source', location: 'body' });
  }
  return order;
}

/** `store_in_vault: ON_SUCCESS`: the payment succeeded, so the payer's PayPal account is saved. */
async function vaultOnSuccess(client: Writer, order: OrderRecord, now: Date): Promise<string | null> {
  const instruction = order.details.vaultInstruction;
  if (!instruction || !order.payer) return null;
  const id = newPaymentTokenId();
  await insertVaultToken(client, {
    id,
    customerId: vaultCustomerId(instruction.customerId, order.payer.payerId),
    status: 'VAULTED',
    usageType: instruction.usageType,
    customerType: instruction.customerType,
    payer: order.payer,
    orderId: order.id,
    createdAt: now,
    deletedAt: null,
  });
  return id;
}

const slowScenarioDelay = (context: SandboxContext, order: OrderRecord) =>
  scenarioFor(order.amountMinor, order.currency) === 'slow_response' ? context.timeoutScenarioDelayMs : undefined;

async function captureOrder(context: SandboxContext, client: Client, orderId: string, representation: boolean): Promise<ActionResult> {
  const order = await readOrderForPayment(client, orderId, 'CAPTURE');
  const now = context.now();
  const pending = scenarioFor(order.amountMinor, order.currency) === 'capture_pending' || payerCaptureIsDenied(order.payer?.emailAddress);
  const capture: CaptureRecord = {
    id: newResourceId(),
    orderId: order.id,
    authorizationId: null,
    status: pending ? 'PENDING' : 'COMPLETED',
    statusReason: pending ? 'PENDING_REVIEW' : null,
    currency: order.currency,
    amountMinor: order.amountMinor,
    refundedMinor: 0n,
    finalCapture: true,
    invoiceId: (order.details.purchaseUnit.invoice_id as string | undefined) ?? null,
    customId: (order.details.purchaseUnit.custom_id as string | undefined) ?? null,
    noteToPayer: null,
    createdAt: now,
    updatedAt: now,
  };
  const writes = new WriteBatch();
  await insertCapture(writes, capture);
  const completed: OrderRecord = { ...order, status: 'COMPLETED', vaultTokenId: await vaultOnSuccess(writes, order, now), updatedAt: now };
  await updateOrderFrom(writes, completed, 'APPROVED');
  if (pending) await scheduleWork(writes, 'settle_capture', capture.id, new Date(now.getTime() + context.pendingCompletionDelayMs));
  await recordWebhookEvent(writes, context, {
    eventType: pending ? 'PAYMENT.CAPTURE.PENDING' : 'PAYMENT.CAPTURE.COMPLETED',
    resourceId: capture.id,
    summary: `Payment ${pending ? 'pending' : 'completed'} for ${formatAmount(capture.amountMinor, capture.currency)} ${capture.currency}`,
    resource: captureRepresentation(context, capture),
    copies: webhookCopiesFor(order.amountMinor, order.currency),
  });
  // An order is captured only from APPROVED, where it has no captures, authorizations or refunds yet: this one capture is all.
  const view: OrderView = { order: completed, captures: [capture], authorizations: [], refunds: [] };
  return {
    statusCode: 201,
    body: orderRepresentation(context, view, representation ? 'full' : 'payment'),
    answerDelayMs: slowScenarioDelay(context, order),
    workDueInMs: pending ? context.pendingCompletionDelayMs : undefined,
    writes,
  };
}

async function authorizeOrder(context: SandboxContext, client: Client, orderId: string, representation: boolean): Promise<ActionResult> {
  const order = await readOrderForPayment(client, orderId, 'AUTHORIZE');
  const now = context.now();
  const authorization: AuthorizationRecord = {
    id: newResourceId(),
    orderId: order.id,
    status: 'CREATED',
    currency: order.currency,
    amountMinor: order.amountMinor,
    capturedMinor: 0n,
    expiresAt: new Date(now.getTime() + authorizationLifetimeMs),
    createdAt: now,
    updatedAt: now,
  };
  const writes = new WriteBatch();
  await insertAuthorization(writes, authorization);
  const completed: OrderRecord = { ...order, status: 'COMPLETED', vaultTokenId: await vaultOnSuccess(writes, order, now), updatedAt: now };
  await updateOrderFrom(writes, completed, 'APPROVED');
  await recordWebhookEvent(writes, context, {
    eventType: 'PAYMENT.AUTHORIZATION.CREATED',
    resourceId: authorization.id,
    summary: `A payment authorization was created for ${formatAmount(authorization.amountMinor, authorization.currency)} ${authorization.currency}`,
    resource: authorizationRepresentation(context, authorization, order),
    copies: webhookCopiesFor(order.amountMinor, order.currency),
  });
  // As for a capture: from APPROVED, this authorization is the order's only child.
  const view: OrderView = { order: completed, captures: [], authorizations: [authorization], refunds: [] };
  return { statusCode: 201, body: orderRepresentation(context, view, representation ? 'full' : 'payment'), answerDelayMs: slowScenarioDelay(context, order), writes };
}

export function registerOrderRoutes(api: FastifyInstance, context: SandboxContext, prefix: string): void {
  api.post('/v2/checkout/orders', async (request, reply) => {
    const input = parseCreateOrder(jsonObjectBody(request, { required: true }));
    if (scenarioFor(input.amountMinor, input.currency) === 'first_create_unavailable') {
      // Keyed by PayPal-Request-Id, or by the body for clients that send none.
      const requestKey = requestIdOf(request) ?? `body:${createHash('sha256').update(JSON.stringify(request.body)).digest('hex')}`;
      if (await recordFirstAttempt(context.pool, endpointKey(request, prefix), requestKey)) throw new SandboxError('SERVICE_UNAVAILABLE');
    }
    return runIdempotent(context, request, reply, prefix, (client) => createOrder(context, client, input, wantsRepresentation(request)));
  });

  api.get<{ Params: { id: string } }>('/v2/checkout/orders/:id', (request) =>
    withConnection(context.pool, async (client) => {
      const order = await findOrder(client, request.params.id);
      if (!order) throw new SandboxError('INVALID_RESOURCE_ID', { field: 'order_id', value: request.params.id, location: 'path' });
      return orderRepresentation(context, await loadOrderView(client, order), 'full');
    }),
  );

  api.post<{ Params: { id: string } }>('/v2/checkout/orders/:id/capture', async (request, reply) => {
    jsonObjectBody(request, { required: false });
    return runIdempotent(context, request, reply, prefix, (client) => captureOrder(context, client, request.params.id, wantsRepresentation(request)));
  });

  api.post<{ Params: { id: string } }>('/v2/checkout/orders/:id/authorize', async (request, reply) => {
    jsonObjectBody(request, { required: false });
    return runIdempotent(context, request, reply, prefix, (client) => authorizeOrder(context, client, request.params.id, wantsRepresentation(request)));
  });
}
