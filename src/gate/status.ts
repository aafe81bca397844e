import { buildCallbackBody } from '../callbacks/body.ts';
import { GateError } from '../domain/errors.ts';
import type { PlatformContext } from '../processing/context.ts';
import { signCallback } from '../signature/index.ts';
import { findPayment, listOperations } from '../store/payments.ts';
import type { Project } from '../store/projects.ts';

/**
 * POST /v2/payment/status: the payment with every operation, in the
 * callbacks' field names, signed like a callback.
 */
export async function paymentStatus(context: PlatformContext, project: Project, paymentId: string): Promise<Record<string, unknown>> {
  const payment = await findPayment(context.gatePool, project.id, paymentId);
  if (!payment) throw new GateError('paymentNotFound', paymentId);
  const operations = await listOperations(context.gatePool, payment.ref);
  const method = context.methods.get(payment.method);
  const views = operations.map((operation) =>
    buildCallbackBody({
      projectId: project.id,
      methodDisplayName: method?.displayName ?? payment.method,
      providerNumber: method?.providerNumber ?? 0,
      payment,
      operation,
    }),
  );
  const latest = views[views.length - 1];
  const body: Record<string, unknown> = {
    project_id: Number(project.id),
    payment: latest.payment,
    ...(latest.account ? { account: latest.account } : {}),
    ...(latest.customer ? { customer: latest.customer } : {}),
    ...(latest.provider_extra_fields ? { provider_extra_fields: latest.provider_extra_fields } : {}),
    operations: views.map((view) => view.operation),
    errors: [],
  };
  return signCallback(body, project.secretKey);
}
