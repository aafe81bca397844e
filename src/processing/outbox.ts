import type pg from 'pg';
import { buildCallbackBody, type CallbackContext } from '../callbacks/body.ts';
import { queueNames } from '../jobs/queue.ts';
import { signCallback } from '../signature/index.ts';
import type { Project } from '../store/projects.ts';
import type { PlatformContext } from './context.ts';

/**
 * Writes a signed callback and its delivery job in the caller's transaction,
 * the one that changed the state the callback reports (transactional outbox).
 * `callback.force_disable` stores it as disabled (visible, never sent);
 * `callback.delay` postpones the first attempt.
 */
export async function enqueueCallback(
  context: PlatformContext,
  tx: pg.PoolClient,
  project: Project,
  kind: 'intermediate' | 'final',
  callback: Omit<CallbackContext, 'projectId' | 'methodDisplayName' | 'providerNumber'>,
): Promise<void> {
  const method = context.methods.get(callback.payment.method);
  const body = buildCallbackBody({
    ...callback,
    projectId: project.id,
    methodDisplayName: method?.displayName ?? callback.payment.method,
    providerNumber: method?.providerNumber ?? 0,
  });
  const signed = JSON.stringify(signCallback(body, project.secretKey));
  const url = callback.payment.callbackUrl ?? project.callbackUrl ?? '';
  const disabled = callback.payment.callbackDisabled || url === '';
  const { rows } = await tx.query<{ id: bigint }>(
    `INSERT INTO callbacks (project_id, payment_ref, operation_id, kind, url, body, status, next_attempt_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8)) RETURNING id`,
    [
      String(project.id), String(callback.payment.ref), String(callback.operation.id), kind, url, signed,
      disabled ? 'disabled' : 'pending', callback.payment.callbackDelaySeconds,
    ],
  );
  if (disabled) return;
  await context.queue.send(
    queueNames.callbackDeliver,
    { callbackId: String(rows[0].id) },
    { db: tx, startAfterSeconds: callback.payment.callbackDelaySeconds || undefined },
  );
}
