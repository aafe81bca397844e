import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { errorCodes } from '../domain/errors.ts';
import { queueNames } from '../jobs/queue.ts';
import { applyProviderResult } from '../processing/apply.ts';
import type { PlatformContext } from '../processing/context.ts';
import { isGenuineReturn } from '../processing/return-urls.ts';
import { findOperationWithPayment, type PaymentRecord } from '../store/payments.ts';

const ReturnQuery = Type.Object({
  operation: Type.String({ pattern: '^[0-9]{1,19}$' }),
  result: Type.Union([Type.Literal('approved'), Type.Literal('cancelled')]),
  tag: Type.String({ minLength: 1, maxLength: 64 }),
  token: Type.Optional(Type.String({ maxLength: 64 })),
  PayerID: Type.Optional(Type.String({ maxLength: 64 })),
});
type ReturnQueryType = Static<typeof ReturnQuery>;

/**
 * The customer comes back from the wallet here. Approval starts the capture
 * or authorization in a job (the webhook CHECKOUT.ORDER.APPROVED does the same
 * if the customer never comes back); cancellation declines the operation. The
 * customer then goes on to the merchant: `return_url.success`/`decline` for a
 * sale, `return_url.return` for an auth.
 */
export async function walletReturnRoutes(app: FastifyInstance, options: { context: PlatformContext }): Promise<void> {
  const { context } = options;
  app.get<{ Params: { method: string }; Querystring: ReturnQueryType }>(
    '/v2/payment/wallet/:method/return',
    { schema: { querystring: ReturnQuery } },
    async (request, reply) => {
      const { operation: operationId, result, tag } = request.query;
      if (!isGenuineReturn(context, operationId, result, tag)) return page(reply, 400, 'This return link is not valid.');
      const found = await findOperationWithPayment(context.pool, BigInt(operationId));
      if (!found) return page(reply, 404, 'Payment not found.');
      const { operation, payment } = found;
      if (result === 'approved') {
        await context.queue.send(queueNames.operationComplete, { operationId }, { singletonKey: `complete-${operationId}`, here: true });
      } else {
        await applyProviderResult(context, operation.id, {
          kind: 'final',
          outcome: 'decline',
          code: errorCodes.customerCancelled.code,
          message: errorCodes.customerCancelled.message,
        });
      }
      const target = merchantReturnUrl(payment, operation.type, result);
      if (target) return reply.redirect(target, 303);
      return page(reply, 200, result === 'approved' ? 'Thank you. Your payment is being processed.' : 'The payment was cancelled.');
    },
  );
}

function merchantReturnUrl(payment: PaymentRecord, operationType: string, result: 'approved' | 'cancelled'): string | undefined {
  if (operationType === 'auth') return payment.returnUrl.return ?? (result === 'approved' ? payment.returnUrl.success : payment.returnUrl.decline);
  return result === 'approved' ? payment.returnUrl.success : payment.returnUrl.decline;
}

function page(reply: FastifyReply, status: number, message: string) {
  const escaped = message.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
  return reply
    .status(status)
    .type('text/html; charset=utf-8')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
    .send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Gatehouse</title></head><body style="font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem"><h1>Gatehouse</h1><p>${escaped}</p></body></html>`);
}
