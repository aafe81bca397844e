import { addPeriods, calendarDateOf, expiryInstant, occurrenceAt, type Schedule } from '../domain/recurring.ts';
import type { Queryable } from '../store/db.ts';
import type { Project } from '../store/projects.ts';
import type { RegistrationRecord } from '../store/recurring.ts';
import { planTask } from './tasks.ts';

/**
 * Scheduled debits of regular (R) COF purchases. Debit k is a task with the
 * dedupe key `recurring:<registration>:<k>`; performing it plans debit k+1,
 * so a registration has at most one pending debit and each due date is
 * debited once. Rules: see src/domain/recurring.ts.
 */
export function scheduleOf(registration: RegistrationRecord): Schedule | undefined {
  if (registration.type !== 'R' || !registration.period) return undefined;
  const registeredOn = calendarDateOf(registration.createdAt);
  const createdSeconds = Math.floor((registration.createdAt.getTime() % 86_400_000) / 1000);
  return {
    period: registration.period,
    interval: registration.interval,
    start: registration.startDate ?? addPeriods(registeredOn, registration.period, registration.interval),
    timeOfDaySeconds: registration.timeOfDaySeconds ?? createdSeconds,
  };
}

/** When debit `index` is due, or undefined when there is none (no schedule, or past the expiry). */
export function debitDueAt(registration: RegistrationRecord, index: number): Date | undefined {
  const schedule = scheduleOf(registration);
  if (!schedule) return undefined;
  const dueAt = occurrenceAt(schedule, index);
  if (registration.expiry && dueAt > expiryInstant(registration.expiry)) return undefined;
  return dueAt;
}

export async function planDebit(db: Queryable, projectId: bigint, registration: RegistrationRecord, index: number): Promise<void> {
  const dueAt = debitDueAt(registration, index);
  if (!dueAt) return;
  await planTask(db, { projectId, kind: 'recurring_debit', subjectId: registration.id, dueAt, dedupeKey: `recurring:${registration.id}:${index}` });
}

export async function planFirstDebit(db: Queryable, project: Project, registration: RegistrationRecord, _now: Date): Promise<void> {
  await planDebit(db, project.id, registration, 0);
}
