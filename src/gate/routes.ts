import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GateError } from '../domain/errors.ts';
import type { PlatformContext } from '../processing/context.ts';
import { verifyGateRequest } from '../signature/index.ts';
import { findProject, type Project } from '../store/projects.ts';
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

interface MethodParams {
  method: string;
}

/**
 * The Gate API: `POST /v2/payment/wallet/{method}/{action}` and
 * `POST /v2/payment/status`. Each handler reads as the spec's steps:
 * schema (Fastify, before the handler), project, signature, method, decide.
 */
export async function gateRoutes(app: FastifyInstance, options: { context: PlatformContext }): Promise<void> {
  const { context } = options;

  /** Finds the project and checks the signature; every Gate request passes here first. */
  async function authenticate(request: FastifyRequest, body: { general: { project_id: number } }): Promise<Project> {
    const project = await findProject(context.pool, body.general.project_id, context.now());
    if (!project) throw new GateError('projectNotFound', String(body.general.project_id));
    const verdict = verifyGateRequest(request.body, project.secretKeys);
    if (verdict === 'missing') throw new GateError('emptySignature');
    if (verdict === 'invalid') throw new GateError('invalidSignature');
    return project;
  }

  function enabledMethod(project: Project, method: string): string {
    if (!context.methods.has(method)) throw new GateError('unsupportedEndpoint', `payment method ${method}`);
    if (method === 'paypal' && !project.paypalEnabled) throw new GateError('methodNotEnabled', method);
    return method;
  }

  const route = <Body extends { general: { project_id: number; payment_id: string } }>(
    action: string,
    schema: object,
    handle: (project: Project, method: string, body: Body) => Promise<unknown>,
  ) => {
    app.post<{ Params: MethodParams; Body: Body }>(`/v2/payment/wallet/:method/${action}`, { schema: { body: schema } }, async (request, reply: FastifyReply) => {
      const body = request.body as Body;
      const project = await authenticate(request, body);
      const method = enabledMethod(project, request.params.method);
      return reply.send(await handle(project, method, body));
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

  app.post<{ Body: StatusBody }>('/v2/payment/status', { schema: { body: StatusRequest } }, async (request) => {
    const project = await authenticate(request, request.body);
    return paymentStatus(context, project, request.body.general.payment_id);
  });
}
