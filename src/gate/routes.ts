import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GateError } from '../domain/errors.ts';
import type { PlatformContext } from '../processing/context.ts';
import { verifyGateRequest } from '../signature/index.ts';
import type { Project } from '../store/projects.ts';
import { checkMethodEnabled } from './method-rules.ts';
import { acceptFollowUp, acceptNewPayment, acceptRecurringCancel, acceptRecurringDebit } from './operations.ts';
import {
  AuthRequest,
  FollowUpRequest,
  RecurringCancelRequest,
  RecurringDebitRequest,
  type RecurringCancelBody,
  type RecurringDebitBody,
  PayoutRequest,
  RefundRequest,
  SaleRequest,
  StatusRequest,
  type AuthBody,
  type FollowUpBody,
  type PayoutBody,
  type RefundBody,
  type SaleBody,
  type StatusBody,
} from './schemas.ts';
import { paymentStatus } from './status.ts';
import { AcceptedResponse, StatusResponse, documentationOnlySerializer, documentedResponses, type DocumentedRoute } from '../observability/openapi-schemas.ts';

interface MethodParams {
  method: string;
}

/** OpenAPI metadata of the wallet endpoints (`npm run openapi`); it changes nothing at run time. */
const walletDocumentation: Record<string, { summary: string; description: string }> = {
  sale: { summary: 'One-step purchase', description: 'The customer approves at the wallet, then the payment is captured. Callbacks: an intermediate one (`9999`, `redirect_data`, the PayPal order id in `operation.provider.payment_id`), then the final one.' },
  auth: { summary: 'Hold (two-step purchase)', description: 'Authorizes the amount; the payment ends `awaiting capture`. Released automatically 3 days after the `auth` operation unless captured (per project: `hold_expiry_action`).' },
  capture: { summary: 'Capture a hold', description: 'Captures a payment in `awaiting capture`. A declined capture leaves it `awaiting capture`.' },
  cancel: { summary: 'Release a hold', description: 'Voids a payment in `awaiting capture`; it ends `canceled`.' },
  refund: { summary: 'Refund', description: 'Full refund without `payment.amount`, or partial refunds up to the captured amount (`3283` beyond, `903` past 100 refunds).' },
  payout: { summary: 'Payout', description: 'Sends money to `account.number` (a PayPal account id or email).' },
  recurring: { summary: 'Debit a COF purchase', description: 'On-demand debit of a registered COF purchase (`recurring.id`, from the registering payment\'s final callback).' },
  'recurring/cancel': { summary: 'Cancel a COF purchase', description: 'No more debits; a `recurring_cancel` callback follows.' },
};

/**
 * The Gate API: `POST /v2/payment/wallet/{method}/{action}` and
 * `POST /v2/payment/status`. Each handler reads as the spec's steps:
 * schema (Fastify, before the handler), project, signature, method, decide.
 */
export async function gateRoutes(app: FastifyInstance, options: { context: PlatformContext }): Promise<void> {
  const { context } = options;

  /** Finds the project and checks the signature; every Gate request passes here first. */
  async function authenticate(request: FastifyRequest, body: { general: { project_id: number } }): Promise<Project> {
    const project = await context.gateProjects.find(body.general.project_id, context.now());
    if (!project) throw new GateError('projectNotFound', String(body.general.project_id));
    const verdict = verifyGateRequest(request.body, project.secretKeys);
    if (verdict === 'missing') throw new GateError('emptySignature');
    if (verdict === 'invalid') throw new GateError('invalidSignature');
    return project;
  }

  function enabledMethod(project: Project, method: string): string {
    checkMethodEnabled(context, project, method);
    return method;
  }

  const route = <Body extends { general: { project_id: number; payment_id: string } }>(
    action: string,
    schema: object,
    handle: (project: Project, method: string, body: Body) => Promise<unknown>,
  ) => {
    const documentation = {
      tags: ['Gate'],
      operationId: `wallet_${action.replace('/', '_')}`,
      ...walletDocumentation[action],
      response: documentedResponses(AcceptedResponse, 'Accepted for processing; the result arrives by callback.', action as DocumentedRoute),
    };
    const options = { schema: { body: schema, ...documentation }, serializerCompiler: documentationOnlySerializer };
    app.post<{ Params: MethodParams; Body: Body }>(`/v2/payment/wallet/:method/${action}`, options, async (request, reply: FastifyReply) => {
      const body = request.body as Body;
      context.intake.enter();
      try {
        const project = await authenticate(request, body);
        const method = enabledMethod(project, request.params.method);
        return reply.send(await handle(project, method, body));
      } finally {
        context.intake.leave();
      }
    });
  };

  route<SaleBody>('sale', SaleRequest, (project, method, body) => acceptNewPayment(context, project, method, 'sale', body));
  route<AuthBody>('auth', AuthRequest, (project, method, body) => acceptNewPayment(context, project, method, 'auth', body));
  route<PayoutBody>('payout', PayoutRequest, (project, method, body) => acceptNewPayment(context, project, method, 'payout', body));
  route<FollowUpBody>('capture', FollowUpRequest, (project, method, body) =>
    acceptFollowUp(context, project, method, 'capture', body.general.payment_id),
  );
  route<FollowUpBody>('cancel', FollowUpRequest, (project, method, body) => acceptFollowUp(context, project, method, 'cancel', body.general.payment_id));
  route<RefundBody>('refund', RefundRequest, (project, method, body) =>
    acceptFollowUp(context, project, method, 'refund', body.general.payment_id, body.payment),
  );

  route<RecurringDebitBody>('recurring', RecurringDebitRequest, (project, _method, body) => acceptRecurringDebit(context, project, body));
  route<RecurringCancelBody>('recurring/cancel', RecurringCancelRequest, (project, _method, body) => acceptRecurringCancel(context, project, body));

  const statusDocumentation = {
    tags: ['Gate'],
    operationId: 'payment_status',
    summary: 'Payment status',
    description: 'The payment and all its operations in the callbacks\' field names, signed like a callback. Ask when no final callback arrived a minute after the customer returned.',
    response: documentedResponses(StatusResponse, 'The payment and its operations.', 'status'),
  };
  const statusOptions = { schema: { body: StatusRequest, ...statusDocumentation }, serializerCompiler: documentationOnlySerializer };
  app.post<{ Body: StatusBody }>('/v2/payment/status', statusOptions, async (request) => {
    const project = await authenticate(request, request.body);
    return paymentStatus(context, project, request.body.general.payment_id);
  });
}
