import type pg from 'pg';
import { buildCallbackBody, type CallbackContext } from '../callbacks/body.ts';
import { tableWorkNames } from '../jobs/queue.ts';
import { signCallback } from '../signature/index.ts';
import { afterCommit } from '../store/db.ts';
import type { Project } from '../store/projects.ts';
import type { PlatformContext } from './context.ts';

/**
 * Writes a signed callback in the caller's transaction, the one that changed
 * the state the callback reports (transactional outbox); the row is its own
 * delivery job (src/callbacks/dispatcher.ts claims it once due). It keeps the
 * id of the request that caused it, so its delivery logs under that id.
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
  const { requestId } = context.queue.carry(tableWorkNames.callbackDeliver, {}) as { requestId?: string };
  await tx.query(
    `INSERT INTO callbacks (project_id, payment_ref, operation_id, kind, url, body, status, next_attempt_at, request_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8), $9)`,
    [
      String(project.id), String(callback.payment.ref), String(callback.operation.id), kind, url, signed,
      disabled ? 'disabled' : 'pending', callback.payment.callbackDelaySeconds, requestId ?? null,
    ],
  );
  if (!disabled && !callback.payment.callbackDelaySeconds) afterCommit(tx, () => context.callbacks.wake());
}
