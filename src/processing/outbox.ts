import type pg from 'pg';
import { buildCallbackBody, type CallbackContext } from '../callbacks/body.ts';
import { tableWorkNames } from '../jobs/queue.ts';
import { signCallback } from '../signature/index.ts';
import { afterCommit } from '../store/db.ts';
import { StatementParameters, type GuardedPart } from '../store/payments.ts';
import type { Project } from '../store/projects.ts';
import type { HandedOffCallback, PlatformContext } from './context.ts';

/**
 * Writes a signed callback in the caller's transaction, the one that changed
 * the state the callback reports (transactional outbox); the row is its own
 * delivery job (src/callbacks/dispatcher.ts). On a node that delivers
 * callbacks it is written already claimed by this node and handed to its
 * delivery once committed (`CallbackDelivery`). It keeps the id of the
 * request that caused it, so its delivery logs under that id.
 * `callback.force_disable` stores it as disabled (visible, never sent);
 * `callback.delay` postpones the first attempt.
 */
export async function enqueueCallback(context: PlatformContext, tx: pg.PoolClient, project: Project, kind: CallbackKind, callback: CallbackFacts): Promise<void> {
  const row = callbackRow(context, project, kind, callback);
  const parameters = new StatementParameters();
  const { rows } = await tx.query<{ id: bigint }>(`${callbackInsert(row, parameters, 'true')} RETURNING id`, parameters.values);
  afterCommit(tx, () => announce(context, row, BigInt(rows[0].id)));
}

/** A callback written as a part of a guarded one-statement write (`updateIfUnchanged`): only if the guard passed. */
export interface GuardedCallback {
  part: GuardedPart;
  /** The select-list item that gives the written callback's id, as `callback_id`. */
  selected: string;
  /** The statement wrote and committed the callback with this id: hand it to delivery. */
  committed(callbackId: bigint): void;
}

export function callbackPart(context: PlatformContext, project: Project, kind: CallbackKind, callback: CallbackFacts): GuardedCallback {
  const row = callbackRow(context, project, kind, callback);
  return {
    part: (parameters) => [`callback AS (${callbackInsert(row, parameters, 'EXISTS (SELECT 1 FROM guard)')} RETURNING id)`],
    selected: '(SELECT id FROM callback) AS callback_id',
    committed: (callbackId) => announce(context, row, callbackId),
  };
}

type CallbackKind = 'intermediate' | 'final';
type CallbackFacts = Omit<CallbackContext, 'projectId' | 'methodDisplayName' | 'providerNumber'>;

interface CallbackRow {
  values: unknown[];
  /** Pending with no delay: what its delivery needs, and whether it was written claimed by this node. */
  dueNow?: Omit<HandedOffCallback, 'id'> & { handedOff: boolean };
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
  const dueNow = !disabled && !callback.payment.callbackDelaySeconds;
  // Due now on a node that delivers: the first attempt is this node's, under a lease like a claim's.
  const leaseSeconds = dueNow ? context.callbacks.handOffLeaseSeconds() : undefined;
  return {
    values: [
      project.id, callback.payment.ref, callback.operation.id, kind, url, signed,
      disabled ? 'disabled' : 'pending', leaseSeconds ?? callback.payment.callbackDelaySeconds, requestId ?? null,
    ],
    dueNow: dueNow ? { url, body: signed, project_mode: project.mode, request_id: requestId ?? null, handedOff: leaseSeconds !== undefined } : undefined,
  };
}

/** After the commit: hand a callback written claimed to this node's delivery, or wake delivery for one due now. */
function announce(context: PlatformContext, row: CallbackRow, callbackId: bigint): void {
  if (!row.dueNow) return;
  const { handedOff, ...delivery } = row.dueNow;
  if (handedOff) context.callbacks.handOff({ id: callbackId, ...delivery });
  else context.callbacks.wake();
}

function callbackInsert(row: CallbackRow, parameters: StatementParameters, condition: string): string {
  const [projectId, paymentRef, operationId, kind, url, body, status, delaySeconds, requestId] = row.values.map((value) => parameters.add(value));
  return `INSERT INTO callbacks (project_id, payment_ref, operation_id, kind, url, body, status, next_attempt_at, request_id)
     SELECT ${projectId}::bigint, ${paymentRef}::bigint, ${operationId}::bigint, ${kind}::text, ${url}::text, ${body}::text, ${status}::text,
            now() + make_interval(secs => ${delaySeconds}::float8), ${requestId}::text
      WHERE ${condition}`;
}
