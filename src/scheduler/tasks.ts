import type { OperationType } from '../domain/statuses.ts';
import type { Queryable } from '../store/db.ts';

/**
 * Planning of time-driven work. Every rule that fires at a time is a row in
 * `scheduled_tasks`, written in the same transaction as the thing it is about
 * (an auth, a refund, a COF registration), with a dedupe key so it is planned
 * once. `src/scheduler/runner.ts` performs due tasks.
 */
export type TaskKind = 'hold_expiry' | 'threshold' | 'recurring_debit';

const daySeconds = 86_400;

/**
 * Threshold times of the PayPal method guide: a purchase not final within 3
 * days, a payout within 30 days, a refund within 35 days is declined. Captures
 * and releases of a hold count as part of the purchase.
 */
export function thresholdSeconds(type: OperationType): number | undefined {
  switch (type) {
    case 'sale':
    case 'auth':
    case 'recurring':
    case 'capture':
    case 'cancel':
      return 3 * daySeconds;
    case 'payout':
      return 30 * daySeconds;
    case 'refund':
      return 35 * daySeconds;
    case 'recurring_cancel':
    case 'chargeback':
      return undefined;
    default:
      return type satisfies never;
  }
}

export interface PlannedTask {
  projectId: bigint;
  kind: TaskKind;
  subjectId: bigint;
  dueAt: Date;
  dedupeKey: string;
}

export async function planTask(db: Queryable, task: PlannedTask): Promise<void> {
  await db.query(
    `INSERT INTO scheduled_tasks (project_id, kind, subject_id, due_at, dedupe_key) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (dedupe_key) DO NOTHING`,
    [String(task.projectId), task.kind, String(task.subjectId), task.dueAt, task.dedupeKey],
  );
}

/** When the threshold rule declines an operation of `type` created at `createdAt`; undefined for types without one. */
export function thresholdDueAt(type: OperationType, createdAt: Date): Date | undefined {
  const seconds = thresholdSeconds(type);
  return seconds === undefined ? undefined : new Date(createdAt.getTime() + seconds * 1000);
}

/** When a hold made at `createdAt` is released (or captured). */
export function holdExpiryDueAt(createdAt: Date, holdPeriodSeconds: number): Date {
  return new Date(createdAt.getTime() + holdPeriodSeconds * 1000);
}

/** An operation timer's dedupe key: one threshold and one hold expiry per operation (`src/store/new-payments.ts` builds the same in SQL). */
function dedupeKeyOf(kind: TaskKind, subjectId: bigint): string {
  return `${kind}:${subjectId}`;
}

/** Plans the threshold decline of a new operation. */
export async function planThreshold(db: Queryable, projectId: bigint, operationId: bigint, type: OperationType, createdAt: Date): Promise<void> {
  const dueAt = thresholdDueAt(type, createdAt);
  if (dueAt === undefined) return;
  await planTask(db, { projectId, kind: 'threshold', subjectId: operationId, dueAt, dedupeKey: dedupeKeyOf('threshold', operationId) });
}

/** Plans the release (or capture) of a PayPal hold `holdPeriodSeconds` after its auth operation was created. */
export async function planHoldExpiry(db: Queryable, projectId: bigint, authOperationId: bigint, createdAt: Date, holdPeriodSeconds: number): Promise<void> {
  await planTask(db, {
    projectId,
    kind: 'hold_expiry',
    subjectId: authOperationId,
    dueAt: holdExpiryDueAt(createdAt, holdPeriodSeconds),
    dedupeKey: dedupeKeyOf('hold_expiry', authOperationId),
  });
}

export async function cancelPendingTasks(db: Queryable, kind: TaskKind, subjectId: bigint): Promise<void> {
  await db.query(`UPDATE scheduled_tasks SET status = 'cancelled', done_at = now() WHERE kind = $1 AND subject_id = $2 AND status = 'pending'`, [
    kind,
    String(subjectId),
  ]);
}
