/**
 * Payouts v1: a batch is accepted as PENDING and settles (every item decided
 * by scenario, batch SUCCESS, one webhook per item) on the first GET of the
 * batch or one of its items, or by scheduled work after
 * `pendingCompletionDelayMs`, whichever comes first.
 */
import type { FastifyInstance } from 'fastify';
import type { SandboxContext } from './context.ts';
import { SandboxError } from './errors.ts';
import { jsonObjectBody, optionalObject, optionalString, runIdempotent, type ActionResult } from './http.ts';
import { newPayoutId, newResourceId } from './ids.ts';
import { formatAmount, parseMoney } from './money.ts';
import { assertNever, payoutBatchCreatedRepresentation, payoutBatchRepresentation, payoutItemRepresentation } from './representations.ts';
import { payoutItemOutcome, webhookCopiesFor } from './scenarios.ts';
import {
  completePayoutBatch,
  findPayoutBatch,
  findPayoutItem,
  inTransaction,
  insertPayoutBatch,
  insertPayoutItem,
  listPayoutItems,
  scheduleWork,
  updatePayoutItem,
  type Client,
  type PayoutBatchRecord,
  type PayoutItemRecord,
} from './store.ts';
import { recordWebhookEvent, type WebhookEventType } from './webhooks.ts';

/** PayPal's limit on items per batch. */
const itemsPerBatchMax = 15_000;
const recipientTypes = ['EMAIL', 'PHONE', 'PAYPAL_ID'] as const;

interface PayoutItemInput {
  recipientType: string;
  receiver: string;
  currency: string;
  amountMinor: bigint;
  note: string | undefined;
  senderItemId: string | undefined;
}

interface CreatePayoutInput {
  senderBatchHeader: Record<string, unknown>;
  senderBatchId: string | undefined;
  items: PayoutItemInput[];
}

function recipientType(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !(recipientTypes as readonly string[]).includes(value)) {
    throw new SandboxError('INVALID_PARAMETER_VALUE', { field, value: String(value), location: 'body' });
  }
  return value;
}

function parseCreatePayout(body: Record<string, unknown>): CreatePayoutInput {
  const header = optionalObject(body, 'sender_batch_header', '/sender_batch_header');
  if (!header) throw new SandboxError('MISSING_REQUIRED_PARAMETER', { field: '/sender_batch_header', location: 'body' });
  const senderBatchId = optionalString(header, 'sender_batch_id', '/sender_batch_header/sender_batch_id', 256);
  optionalString(header, 'email_subject', '/sender_batch_header/email_subject', 255);
  const defaultRecipientType = recipientType(header.recipient_type, '/sender_batch_header/recipient_type') ?? 'EMAIL';
  const items = body.items;
  if (items === undefined) throw new SandboxError('MISSING_REQUIRED_PARAMETER', { field: '/items', location: 'body' });
  if (!Array.isArray(items) || items.length === 0 || items.length > itemsPerBatchMax) {
    throw new SandboxError('INVALID_PARAMETER_VALUE', { field: '/items', location: 'body' });
  }
  return {
    senderBatchHeader: header,
    senderBatchId,
    items: items.map((item: unknown, index) => {
      const field = `/items/${index}`;
      if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new SandboxError('INVALID_PARAMETER_SYNTAX', { field, location: 'body' });
      const record = item as Record<string, unknown>;
      const receiver = optionalString(record, 'receiver', `${field}/receiver`, 127);
      if (!receiver) throw new SandboxError('MISSING_REQUIRED_PARAMETER', { field: `${field}/receiver`, location: 'body' });
      const { currency, amountMinor } = parseMoney(record.amount, `${field}/amount`, 'currency');
      return {
        recipientType: recipientType(record.recipient_type, `${field}/recipient_type`) ?? defaultRecipientType,
        receiver,
        currency,
        amountMinor,
        note: optionalString(record, 'note', `${field}/note`, 4_000),
        senderItemId: optionalString(record, 'sender_item_id', `${field}/sender_item_id`, 63),
      };
    }),
  };
}

async function createPayout(context: SandboxContext, client: Client, input: CreatePayoutInput): Promise<ActionResult> {
  const now = context.now();
  const batch: PayoutBatchRecord = {
    id: newPayoutId(),
    senderBatchId: input.senderBatchId ?? null,
    senderBatchHeader: input.senderBatchHeader,
    status: 'PENDING',
    createdAt: now,
    completedAt: null,
  };
  if (!(await insertPayoutBatch(client, batch))) {
    throw new SandboxError('SENDER_BATCH_ID_ALREADY_USED', { field: 'sender_batch_id', value: input.senderBatchId, location: 'body' });
  }
  for (const [position, item] of input.items.entries()) {
    await insertPayoutItem(client, {
      id: newPayoutId(),
      batchId: batch.id,
      position,
      recipientType: item.recipientType,
      receiver: item.receiver,
      currency: item.currency,
      amountMinor: item.amountMinor,
      note: item.note ?? null,
      senderItemId: item.senderItemId ?? null,
      status: 'PENDING',
      transactionId: null,
      error: null,
      processedAt: null,
    });
  }
  await scheduleWork(client, 'settle_payout_batch', batch.id, new Date(now.getTime() + context.pendingCompletionDelayMs));
  return { statusCode: 201, body: payoutBatchCreatedRepresentation(context, batch), workDueInMs: context.pendingCompletionDelayMs };
}

function itemEvent(item: PayoutItemRecord): { eventType: WebhookEventType; summary: string } {
  const amount = `${formatAmount(item.amountMinor, item.currency)} ${item.currency}`;
  switch (item.status) {
    case 'SUCCESS':
      return { eventType: 'PAYMENT.PAYOUTS-ITEM.SUCCEEDED', summary: `Payout item of ${amount} succeeded` };
    case 'FAILED':
      return { eventType: 'PAYMENT.PAYOUTS-ITEM.FAILED', summary: `Payout item of ${amount} failed` };
    case 'UNCLAIMED':
      return { eventType: 'PAYMENT.PAYOUTS-ITEM.UNCLAIMED', summary: `Payout item of ${amount} is unclaimed` };
    case 'PENDING':
      throw new Error(`payout item ${item.id} is still pending after settling`);
    default:
      return assertNever(item.status);
  }
}

/** Decides every item of a PENDING batch and completes it; does nothing to a settled batch. */
export async function settlePayoutBatch(context: SandboxContext, client: Client, batchId: string): Promise<void> {
  const batch = await findPayoutBatch(client, batchId, { forUpdate: true });
  if (!batch || batch.status !== 'PENDING') return;
  const now = context.now();
  const settledItems: PayoutItemRecord[] = [];
  for (const item of await listPayoutItems(client, batch.id)) {
    const outcome = payoutItemOutcome(item.amountMinor, item.currency, item.receiver);
    const settled: PayoutItemRecord = {
      ...item,
      status: outcome.status,
      transactionId: outcome.status === 'FAILED' ? null : newResourceId(),
      error: outcome.status === 'FAILED' ? { name: outcome.errorName, message: outcome.errorMessage } : null,
      processedAt: now,
    };
    await updatePayoutItem(client, settled);
    settledItems.push(settled);
  }
  const completed: PayoutBatchRecord = { ...batch, status: 'SUCCESS', completedAt: now };
  // The scheduled settle stays in place when a GET settles first: it finds the batch settled and does nothing.
  // (Deleting it here would take the work row's lock after the batch's, the reverse of the sweeper's order.)
  await completePayoutBatch(client, batch.id, now);
  for (const item of settledItems) {
    await recordWebhookEvent(client, context, {
      ...itemEvent(item),
      resourceId: item.id,
      resource: payoutItemRepresentation(context, item, completed),
      copies: webhookCopiesFor(item.amountMinor, item.currency),
    });
  }
}

export function registerPayoutRoutes(api: FastifyInstance, context: SandboxContext, prefix: string): void {
  api.post('/v1/payments/payouts', async (request, reply) => {
    const input = parseCreatePayout(jsonObjectBody(request, { required: true }));
    return runIdempotent(context, request, reply, prefix, (client) => createPayout(context, client, input));
  });

  api.get<{ Params: { id: string } }>('/v1/payments/payouts/:id', async (request) => {
    const body = await inTransaction(context.pool, async (client) => {
      await settlePayoutBatch(context, client, request.params.id);
      const batch = await findPayoutBatch(client, request.params.id);
      if (!batch) throw new SandboxError('INVALID_RESOURCE_ID', { field: 'payout_batch_id', value: request.params.id, location: 'path' });
      return payoutBatchRepresentation(context, batch, await listPayoutItems(client, batch.id));
    });
    context.afterCommit.deliverWebhooks();
    return body;
  });

  api.get<{ Params: { id: string } }>('/v1/payments/payouts-item/:id', async (request) => {
    const body = await inTransaction(context.pool, async (client) => {
      const unsettled = await findPayoutItem(client, request.params.id);
      if (!unsettled) throw new SandboxError('INVALID_RESOURCE_ID', { field: 'payout_item_id', value: request.params.id, location: 'path' });
      await settlePayoutBatch(context, client, unsettled.batchId);
      const item = (await findPayoutItem(client, unsettled.id))!;
      const batch = (await findPayoutBatch(client, item.batchId))!;
      return payoutItemRepresentation(context, item, batch);
    });
    context.afterCommit.deliverWebhooks();
    return body;
  });
}
