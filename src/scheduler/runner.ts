import type pg from 'pg';
import { errorCodes } from '../domain/errors.ts';
import { debitPaymentId } from '../domain/recurring.ts';
import { newRequestId, startFollowUp, startRecurringDebit } from '../gate/operations.ts';
import { applyProviderResultIn } from '../processing/apply.ts';
import { sweepPciReminders } from '../notifications/sweep.ts';
import { clockFor, type PlatformContext } from '../processing/context.ts';
import { withTransaction } from '../store/db.ts';
import { findOperation, findPayment, lockPaymentByRef } from '../store/payments.ts';
import { findProject, type Project } from '../store/projects.ts';
import { lockRegistration, updateRegistration } from '../store/recurring.ts';
import { debitDueAt, planDebit } from './recurring.ts';
import type { TaskKind } from './tasks.ts';

/**
 * Performs due tasks. Each task is taken with FOR UPDATE SKIP LOCKED and
 * performed in the transaction that marks it done: with several nodes each
 * task runs once, and a crash mid-task rolls the whole task back so it runs
 * again later. Tasks are taken in due order, so advancing a test clock fires
 * them in the order they would have happened.
 */
interface TaskRow {
  id: bigint;
  project_id: bigint;
  kind: TaskKind;
  subject_id: bigint;
  due_at: Date;
  attempts: number;
}

const attemptsMax = 10;

export interface RunOptions {
  /** Only this project's tasks (a test clock advance). */
  projectId?: bigint;
  /** Bound on tasks per call. */
  maxTasks?: number;
}

export async function runDueTasks(context: PlatformContext, options: RunOptions = {}): Promise<number> {
  const maxTasks = options.maxTasks ?? 500;
  let performed = 0;
  while (performed < maxTasks) {
    const outcome = await runOneTask(context, options.projectId);
    if (outcome === 'none') break;
    performed += 1;
  }
  return performed;
}

async function runOneTask(context: PlatformContext, projectId: bigint | undefined): Promise<'done' | 'failed' | 'none'> {
  let taken: TaskRow | undefined;
  try {
    return await withTransaction(context.pool, async (tx) => {
      taken = await takeDueTask(tx, context.now(), projectId);
      if (!taken) return 'none';
      await perform(context, tx, taken);
      await tx.query(`UPDATE scheduled_tasks SET status = 'done', done_at = now() WHERE id = $1`, [String(taken.id)]);
      return 'done';
    });
  } catch (error) {
    if (!taken) throw error;
    await recordFailure(context, taken, error);
    return 'failed';
  }
}

/**
 * Locks the next due task: due by real time for a project on real time, by
 * its own clock for a project with a test clock. Two index scans in due
 * order: one condition on the project's clock for every task
 * (`due_at <= COALESCE(test_clock_at, now)`) could use no index, so every
 * poll read every pending task, and each payment leaves one pending for
 * three days (10 ms a poll with 20,000 of them in the bench).
 */
async function takeDueTask(tx: pg.PoolClient, now: Date, projectId: bigint | undefined): Promise<TaskRow | undefined> {
  const project = projectId === undefined ? null : String(projectId);
  const onRealTime = await tx.query<TaskRow>(
    `SELECT t.id, t.project_id, t.kind, t.subject_id, t.due_at, t.attempts
       FROM scheduled_tasks t JOIN projects p ON p.id = t.project_id
      WHERE t.status = 'pending' AND t.due_at <= $1 AND p.test_clock_at IS NULL
        AND ($2::bigint IS NULL OR t.project_id = $2)
      ORDER BY t.due_at, t.id LIMIT 1 FOR UPDATE OF t SKIP LOCKED`,
    [now, project],
  );
  if (onRealTime.rows[0]) return onRealTime.rows[0];
  // No ORDER BY across projects: LIMIT 1 stops at the first project with a due task, so only that task is locked.
  const onTestClock = await tx.query<TaskRow>(
    `SELECT t.id, t.project_id, t.kind, t.subject_id, t.due_at, t.attempts
       FROM projects p CROSS JOIN LATERAL (
            SELECT * FROM scheduled_tasks t
             WHERE t.project_id = p.id AND t.status = 'pending' AND t.due_at <= p.test_clock_at
             ORDER BY t.due_at, t.id LIMIT 1 FOR UPDATE SKIP LOCKED) t
      WHERE p.test_clock_at IS NOT NULL AND ($1::bigint IS NULL OR p.id = $1)
      LIMIT 1`,
    [project],
  );
  return onTestClock.rows[0];
}

/** A failing task is retried a minute later (in its project's time), then given up after `attemptsMax`. */
async function recordFailure(context: PlatformContext, task: TaskRow, error: unknown): Promise<void> {
  const message = error instanceof Error ? error.message : String(error);
  context.log.error({ taskId: String(task.id), kind: task.kind, err: message }, 'scheduled task failed');
  await context.pool.query(
    `UPDATE scheduled_tasks SET attempts = attempts + 1, last_error = $2, due_at = due_at + interval '1 minute',
       status = CASE WHEN attempts + 1 >= $3 THEN 'cancelled' ELSE status END WHERE id = $1`,
    [String(task.id), message.slice(0, 500), attemptsMax],
  );
}

async function perform(context: PlatformContext, tx: pg.PoolClient, task: TaskRow): Promise<void> {
  const project = await findProject(tx, task.project_id);
  if (!project) return;
  switch (task.kind) {
    case 'threshold':
      await declineOverdue(context, tx, BigInt(task.subject_id));
      return;
    case 'hold_expiry':
      await expireHold(context, tx, project, BigInt(task.subject_id));
      return;
    case 'recurring_debit':
      await debitOnSchedule(context, tx, project, BigInt(task.subject_id));
      return;
    default:
      return task.kind satisfies never;
  }
}

/** Threshold time passed: an operation that is not final is declined (and the merchant told). */
async function declineOverdue(context: PlatformContext, tx: pg.PoolClient, operationId: bigint): Promise<void> {
  await applyProviderResultIn(context, tx, operationId, {
    kind: 'final',
    outcome: 'decline',
    code: errorCodes.thresholdExpired.code,
    message: errorCodes.thresholdExpired.message,
  });
}

/** The hold's time is up: release it (the spec's default) or capture it, per the project's setting. */
async function expireHold(context: PlatformContext, tx: pg.PoolClient, project: Project, authOperationId: bigint): Promise<void> {
  const operation = await findOperation(tx, authOperationId);
  if (!operation) return;
  const payment = await lockPaymentByRef(tx, operation.paymentRef);
  if (payment.status !== 'awaiting capture') return;
  const action = project.holdExpiryAction === 'capture' ? 'capture' : 'cancel';
  await startFollowUp(context, tx, project, payment, action, { requestId: newRequestId(), usdRates: await context.usdRates(tx) });
}

/** A scheduled COF debit: one payment per due date, then the next debit is planned. */
async function debitOnSchedule(context: PlatformContext, tx: pg.PoolClient, project: Project, registrationId: bigint): Promise<void> {
  const registration = await lockRegistration(tx, project.id, registrationId);
  if (!registration || registration.status !== 'active') return;
  const index = registration.debitsScheduled;
  const dueAt = debitDueAt(registration, index);
  if (!dueAt || dueAt > clockFor(context, project)) return;
  await updateRegistration(tx, registration.id, { debitsScheduled: index + 1 });
  await planDebit(tx, project.id, registration, index + 1);
  const origin = await lockPaymentByRef(tx, registration.paymentRef);
  const paymentId = debitPaymentId(registration.scheduledPaymentId ?? `${origin.paymentId}-recurring`, index);
  if (await findPayment(tx, project.id, paymentId)) {
    context.log.error({ registrationId: String(registration.id), paymentId }, 'scheduled debit skipped: its payment_id is already used');
    return;
  }
  await startRecurringDebit(
    context,
    tx,
    project,
    {
      registration,
      paymentId,
      amountMinor: registration.amountMinor ?? origin.amountMinor,
      currency: registration.currency,
      customer: origin.customer,
      description: origin.description,
      callback: { url: origin.callbackUrl, delaySeconds: origin.callbackDelaySeconds, disabled: origin.callbackDisabled },
      additionalData: origin.additionalData,
    },
    dueAt,
  );
}

/**
 * Runs due tasks every `intervalMs` until stopped, and every
 * `config.reminderSweepIntervalMs` (from this node's start on) the PCI DSS
 * reminder sweep, which makes merchants' reminders that fell due.
 */
export function startScheduler(context: PlatformContext, intervalMs: number): { stop(): Promise<void> } {
  let stopped = false;
  let busy = false;
  let running: Promise<unknown> = Promise.resolve();
  // Elapsed real time, not the platform clock: this only paces the work, the sweep itself reads the clock.
  let lastSweepAtMs = Number.NEGATIVE_INFINITY;
  const tick = async () => {
    await runDueTasks(context).catch((error) => context.log.error({ err: error }, 'scheduler run failed'));
    if (performance.now() - lastSweepAtMs < context.config.reminderSweepIntervalMs) return;
    lastSweepAtMs = performance.now();
    await sweepPciReminders(context).catch((error) => context.log.error({ err: error }, 'PCI reminder sweep failed'));
  };
  const timer = setInterval(() => {
    if (stopped || busy) return;
    busy = true;
    running = tick().finally(() => {
      busy = false;
    });
  }, intervalMs);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
