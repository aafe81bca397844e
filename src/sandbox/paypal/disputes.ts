/**
 * Disputes: raised by tests through `POST /_test/disputes` (a sandbox-only
 * helper, no credentials needed), shown through PayPal's
 * `GET /v1/customer/disputes/{id}`, announced with CUSTOMER.DISPUTE.CREATED.
 */
import type { FastifyInstance } from 'fastify';
import type { SandboxContext } from './context.ts';
import { SandboxError } from './errors.ts';
import { jsonObjectBody, optionalString, runIdempotent, type ActionResult } from './http.ts';
import { newDisputeId } from './ids.ts';
import { parseMoney } from './money.ts';
import { disputeRepresentation } from './representations.ts';
import { webhookCopiesFor } from './scenarios.ts';
import { findCapture, findDispute, findOrder, insertDispute, withConnection, type Client, type DisputeRecord } from './store.ts';
import { recordWebhookEvent } from './webhooks.ts';

const lifeCycleStages = ['INQUIRY', 'CHARGEBACK', 'PRE_ARBITRATION', 'ARBITRATION'];

async function raiseDispute(context: SandboxContext, client: Client, body: Record<string, unknown>): Promise<ActionResult> {
  const captureId = optionalString(body, 'capture_id', '/capture_id', 64);
  if (!captureId) throw new SandboxError('MISSING_REQUIRED_PARAMETER', { field: '/capture_id', location: 'body' });
  const capture = await findCapture(client, captureId);
  if (!capture) throw new SandboxError('INVALID_RESOURCE_ID', { field: 'capture_id', value: captureId, location: 'body' });
  const order = await findOrder(client, capture.orderId);
  const amount = body.amount === undefined ? { currency: capture.currency, amountMinor: capture.amountMinor } : parseMoney(body.amount, '/amount');
  const lifeCycleStage = optionalString(body, 'dispute_life_cycle_stage', '/dispute_life_cycle_stage', 32) ?? 'INQUIRY';
  if (!lifeCycleStages.includes(lifeCycleStage)) {
    throw new SandboxError('INVALID_PARAMETER_VALUE', { field: '/dispute_life_cycle_stage', value: lifeCycleStage, location: 'body' });
  }
  const now = context.now();
  const dispute: DisputeRecord = {
    id: newDisputeId(),
    captureId: capture.id,
    reason: optionalString(body, 'reason', '/reason', 64) ?? 'MERCHANDISE_OR_SERVICE_NOT_RECEIVED',
    status: 'OPEN',
    lifeCycleStage,
    currency: amount.currency,
    amountMinor: amount.amountMinor,
    createdAt: now,
    updatedAt: now,
  };
  await insertDispute(client, dispute);
  const resource = disputeRepresentation(context, dispute, capture);
  await recordWebhookEvent(client, context, {
    eventType: 'CUSTOMER.DISPUTE.CREATED',
    resourceId: dispute.id,
    summary: `A new dispute opened with Case # ${dispute.id}`,
    resource,
    copies: order ? webhookCopiesFor(order.amountMinor, order.currency) : 1,
  });
  return { statusCode: 201, body: resource };
}

export function registerDisputeTestRoute(app: FastifyInstance, context: SandboxContext, prefix: string): void {
  app.post('/_test/disputes', async (request, reply) => {
    const body = jsonObjectBody(request, { required: true });
    return runIdempotent(context, request, reply, prefix, (client) => raiseDispute(context, client, body));
  });
}

export function registerDisputeRoutes(api: FastifyInstance, context: SandboxContext): void {
  api.get<{ Params: { id: string } }>('/v1/customer/disputes/:id', (request) =>
    withConnection(context.pool, async (client) => {
      const dispute = await findDispute(client, request.params.id);
      if (!dispute) throw new SandboxError('INVALID_RESOURCE_ID', { field: 'dispute_id', value: request.params.id, location: 'path' });
      const capture = await findCapture(client, dispute.captureId);
      if (!capture) throw new Error(`dispute ${dispute.id} refers to missing capture ${dispute.captureId}`);
      return disputeRepresentation(context, dispute, capture);
    }),
  );
}
