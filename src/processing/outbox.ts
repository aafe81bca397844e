import type pg from 'pg';
import { buildCallbackBody, type CallbackContext } from '../callbacks/body.ts';
import { tableWorkNames } from '../jobs/queue.ts';
import { signCallback } from '../signature/index.ts';
import { afterCommit } from '../store/db.ts';
import { StatementParameters, type GuardedPart } from '../store/payments.ts';
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
export async function enqueueCallback(context: PlatformContext, tx: pg.PoolClient, project: Project, kind: CallbackKind, callback: CallbackFacts): Promise<void> {
  const row = callbackRow(context, project, kind, callback);
  const parameters = new StatementParameters();
  await tx.query(callbackInsert(row, parameters, 'true'), parameters.values);
  if (row.dueNow) afterCommit(tx, () => context.callbacks.wake());
}

/**
 * The same callback as a part of a guarded one-statement write
 * (`updateIfUnchanged`): written only if the guard passed. `dueNow`: wake
 * this node's delivery once the statement has written it.
 */
export function callbackPart(context: PlatformContext, project: Project, kind: CallbackKind, callback: CallbackFacts): { part: GuardedPart; dueNow: boolean } {
  const row = callbackRow(context, project, kind, callback);
  return { part: (parameters) => [`callback AS (${callbackInsert(row, parameters, 'EXISTS (SELECT 1 FROM guard)')})`], dueNow: row.dueNow };
}

type CallbackKind = 'intermediate' | 'final';
type CallbackFacts = Omit<CallbackContext, 'projectId' | 'methodDisplayName' | 'providerNumber'>;

interface CallbackRow {
  values: unknown[];
  /** Pending with no delay: deliverable as soon as it commits. */
  dueNow: boolean;
}

function callbackRow(context: PlatformContext, project: Project, kind: CallbackKind, callback: CallbackFacts): CallbackRow {
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
  return {
    values: [
      project.id, callback.payment.ref, callback.operation.id, kind, url, signed,
      disabled ? 'disabled' : 'pending', callback.payment.callbackDelaySeconds, requestId ?? null,
    ],
    dueNow: !disabled && !callback.payment.callbackDelaySeconds,
  };
}

function callbackInsert(row: CallbackRow, parameters: StatementParameters, condition: string): string {
  const [projectId, paymentRef, operationId, kind, url, body, status, delaySeconds, requestId] = row.values.map((value) => parameters.add(value));
  return `INSERT INTO callbacks (project_id, payment_ref, operation_id, kind, url, body, status, next_attempt_at, request_id)
     SELECT ${projectId}::bigint, ${paymentRef}::bigint, ${operationId}::bigint, ${kind}::text, ${url}::text, ${body}::text, ${status}::text,
            now() + make_interval(secs => ${delaySeconds}::float8), ${requestId}::text
      WHERE ${condition}`;
}
