import type pg from 'pg';
import { projectIdsOfMerchant } from '../accounts/merchants.ts';
import type { PlatformContext } from '../processing/context.ts';
import type { Queryable } from '../store/db.ts';
import { withTransaction } from '../store/db.ts';
import { generateReport } from './files.ts';
import type { ReportKind } from './queries.ts';

/**
 * Scheduled reports: daily, weekly (Monday to Monday) or monthly, in UTC.
 * A schedule is due when its `next_run_at` (the end of the next period to
 * report) has passed. Each node's timer takes a due schedule with FOR UPDATE
 * SKIP LOCKED and, in that same transaction, generates the report for the
 * period that just ended and moves `next_run_at` one period on: every period
 * is reported once, also with several nodes and crashes; a node that was
 * down catches up period by period.
 */
export const frequencies = ['daily', 'weekly', 'monthly'] as const;
export type Frequency = (typeof frequencies)[number];

/** The first period boundary strictly after `at`. */
export function nextBoundary(frequency: Frequency, at: Date): Date {
  const day = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
  switch (frequency) {
    case 'daily':
      return new Date(day + 86_400_000);
    case 'weekly': {
      const weekday = (new Date(day).getUTCDay() + 6) % 7; // Monday 0
      return new Date(day + (7 - weekday) * 86_400_000);
    }
    case 'monthly':
      return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1));
    default:
      return frequency satisfies never;
  }
}

/** The boundary one period before `boundary` (which must be a boundary). */
export function previousBoundary(frequency: Frequency, boundary: Date): Date {
  switch (frequency) {
    case 'daily':
      return new Date(boundary.getTime() - 86_400_000);
    case 'weekly':
      return new Date(boundary.getTime() - 7 * 86_400_000);
    case 'monthly':
      return new Date(Date.UTC(boundary.getUTCFullYear(), boundary.getUTCMonth() - 1, 1));
    default:
      return frequency satisfies never;
  }
}

export interface ReportSchedule {
  id: bigint;
  merchantId: bigint;
  projectId: bigint | null;
  kind: ReportKind;
  frequency: Frequency;
  nextRunAt: Date;
  createdBy: bigint;
  createdAt: Date;
}

type ScheduleRow = {
  id: string;
  merchant_id: string;
  project_id: string | null;
  kind: ReportKind;
  frequency: Frequency;
  next_run_at: Date;
  created_by: string;
  created_at: Date;
};
const scheduleColumns = `id::text AS id, merchant_id::text AS merchant_id, project_id::text AS project_id, kind, frequency, next_run_at,
  created_by::text AS created_by, created_at`;
const toSchedule = (row: ScheduleRow): ReportSchedule => ({
  id: BigInt(row.id),
  merchantId: BigInt(row.merchant_id),
  projectId: row.project_id === null ? null : BigInt(row.project_id),
  kind: row.kind,
  frequency: row.frequency,
  nextRunAt: row.next_run_at,
  createdBy: BigInt(row.created_by),
  createdAt: row.created_at,
});

export function scheduleView(schedule: ReportSchedule) {
  return {
    id: Number(schedule.id),
    project_id: schedule.projectId === null ? null : Number(schedule.projectId),
    kind: schedule.kind,
    frequency: schedule.frequency,
    next_run_at: schedule.nextRunAt.toISOString(),
    created_at: schedule.createdAt.toISOString(),
  };
}

export async function createSchedule(
  db: Queryable,
  input: { merchantId: bigint; projectId: bigint | null; kind: ReportKind; frequency: Frequency; createdBy: bigint; now: Date },
): Promise<ReportSchedule> {
  const { rows } = await db.query<ScheduleRow>(
    `INSERT INTO report_schedules (merchant_id, project_id, kind, frequency, next_run_at, created_by) VALUES ($1, $2, $3, $4, $5, $6)
     RETURNING ${scheduleColumns}`,
    [
      String(input.merchantId), input.projectId === null ? null : String(input.projectId), input.kind, input.frequency,
      nextBoundary(input.frequency, input.now), String(input.createdBy),
    ],
  );
  return toSchedule(rows[0]);
}

export async function listSchedules(db: Queryable, merchantId: bigint): Promise<ReportSchedule[]> {
  const { rows } = await db.query<ScheduleRow>(
    `SELECT ${scheduleColumns} FROM report_schedules WHERE merchant_id = $1 AND deleted_at IS NULL ORDER BY id`,
    [String(merchantId)],
  );
  return rows.map(toSchedule);
}

export async function deleteSchedule(db: Queryable, merchantId: bigint, scheduleId: bigint): Promise<boolean> {
  const result = await db.query('UPDATE report_schedules SET deleted_at = now() WHERE id = $1 AND merchant_id = $2 AND deleted_at IS NULL', [
    String(scheduleId),
    String(merchantId),
  ]);
  return (result.rowCount ?? 0) > 0;
}

/** Generates every report that fell due by `now` (at most `runsMax` per call). Returns how many it made. */
export async function runDueReports(context: PlatformContext, runsMax = 20): Promise<number> {
  let made = 0;
  while (made < runsMax) {
    const ran = await withTransaction(context.pool, (tx) => runOneDue(context, tx));
    if (!ran) break;
    made += 1;
  }
  return made;
}

async function runOneDue(context: PlatformContext, tx: pg.PoolClient): Promise<boolean> {
  const { rows } = await tx.query<ScheduleRow>(
    `SELECT ${scheduleColumns} FROM report_schedules WHERE deleted_at IS NULL AND next_run_at <= $1
      ORDER BY next_run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`,
    [context.now()],
  );
  if (!rows[0]) return false;
  const schedule = toSchedule(rows[0]);
  const periodTo = schedule.nextRunAt;
  const periodFrom = previousBoundary(schedule.frequency, periodTo);
  const projectIds = schedule.projectId !== null ? [schedule.projectId] : await projectIdsOfMerchant(tx, schedule.merchantId);
  const filters = { projectIds, from: periodFrom, to: periodTo };
  await generateReport(tx, {
    merchantId: schedule.merchantId,
    projectId: schedule.projectId,
    scheduleId: schedule.id,
    createdBy: null,
    periodFrom,
    periodTo,
    export: schedule.kind === 'payments' ? { kind: 'payments', filters } : { kind: 'operations', filters },
  });
  await tx.query('UPDATE report_schedules SET next_run_at = $2 WHERE id = $1', [String(schedule.id), nextBoundary(schedule.frequency, periodTo)]);
  return true;
}

/** Each node looks for due reports every `intervalMs`. */
export function startReportScheduler(context: PlatformContext, intervalMs: number): { stop(): Promise<void> } {
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();
  let busy = false;
  const timer = setInterval(() => {
    if (stopped || busy) return;
    busy = true;
    running = runDueReports(context)
      .catch((error) => context.log.error({ err: error }, 'scheduled reports failed'))
      .finally(() => {
        busy = false;
      });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
