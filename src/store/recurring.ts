import type { CalendarDate, Period } from '../domain/recurring.ts';
import type { Queryable } from './db.ts';

export type RegistrationStatus = 'pending' | 'active' | 'cancelled' | 'expired' | 'failed';

export interface RegistrationRecord {
  id: bigint;
  projectId: bigint;
  paymentRef: bigint;
  type: 'R' | 'U';
  status: RegistrationStatus;
  currency: string;
  amountMinor: bigint | null;
  period: Period | null;
  interval: number;
  /** Seconds after midnight UTC, or null. */
  timeOfDaySeconds: number | null;
  startDate: CalendarDate | null;
  expiry: CalendarDate | null;
  scheduledPaymentId: string | null;
  vaultId: string | null;
  debitsScheduled: number;
  createdAt: Date;
}

function dateOf(value: string | null): CalendarDate | null {
  if (!value) return null;
  const [year, month, day] = value.split('-').map(Number);
  return { year, month, day };
}

function secondsOf(value: string | null): number | null {
  if (!value) return null;
  const [hours, minutes, seconds] = value.split(':').map(Number);
  return hours * 3600 + minutes * 60 + Math.floor(seconds);
}

const columns = `id, project_id, payment_ref, type, status, currency, amount_minor, period, interval_count,
  debit_time::text AS debit_time, start_date::text AS start_date, expiry_date::text AS expiry_date,
  scheduled_payment_id, vault_id, debits_scheduled, created_at`;

/* eslint-disable @typescript-eslint/no-explicit-any */
function toRegistration(row: any): RegistrationRecord {
  return {
    id: BigInt(row.id),
    projectId: BigInt(row.project_id),
    paymentRef: BigInt(row.payment_ref),
    type: row.type,
    status: row.status,
    currency: row.currency.trim(),
    amountMinor: row.amount_minor === null ? null : BigInt(row.amount_minor),
    period: row.period,
    interval: row.interval_count,
    timeOfDaySeconds: secondsOf(row.debit_time),
    startDate: dateOf(row.start_date),
    expiry: dateOf(row.expiry_date),
    scheduledPaymentId: row.scheduled_payment_id,
    vaultId: row.vault_id,
    debitsScheduled: row.debits_scheduled,
    createdAt: row.created_at,
  };
}
/* eslint-enable @typescript-eslint/no-explicit-any */

function sqlDate(date: CalendarDate | undefined | null): string | null {
  return date ? `${date.year}-${String(date.month).padStart(2, '0')}-${String(date.day).padStart(2, '0')}` : null;
}

function sqlTime(seconds: number | undefined | null): string | null {
  if (seconds === undefined || seconds === null) return null;
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor((seconds % 3600) / 60))}:${pad(seconds % 60)}`;
}

export interface NewRegistration {
  projectId: bigint;
  paymentRef: bigint;
  type: 'R' | 'U';
  currency: string;
  amountMinor: bigint | undefined;
  period: Period | undefined;
  interval: number;
  timeOfDaySeconds: number | undefined;
  startDate: CalendarDate | undefined;
  expiry: CalendarDate | undefined;
  scheduledPaymentId: string | undefined;
  createdAt: Date;
}

/** Inserts a pending registration; a reused scheduled_payment_id raises `recurring_registrations_project_id_scheduled_payment_id_key`. */
export async function insertRegistration(db: Queryable, input: NewRegistration): Promise<RegistrationRecord> {
  const { rows } = await db.query(
    `INSERT INTO recurring_registrations (project_id, payment_ref, type, status, currency, amount_minor, period, interval_count,
       debit_time, start_date, expiry_date, scheduled_payment_id, created_at)
     VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING ${columns}`,
    [
      String(input.projectId), String(input.paymentRef), input.type, input.currency,
      input.amountMinor === undefined ? null : String(input.amountMinor), input.period ?? null, input.interval,
      sqlTime(input.timeOfDaySeconds), sqlDate(input.startDate), sqlDate(input.expiry), input.scheduledPaymentId ?? null, input.createdAt,
    ],
  );
  return toRegistration(rows[0]);
}

export async function findRegistration(db: Queryable, projectId: bigint, id: bigint): Promise<RegistrationRecord | undefined> {
  const { rows } = await db.query(`SELECT ${columns} FROM recurring_registrations WHERE project_id = $1 AND id = $2`, [String(projectId), String(id)]);
  return rows[0] ? toRegistration(rows[0]) : undefined;
}

export async function lockRegistration(db: Queryable, projectId: bigint, id: bigint): Promise<RegistrationRecord | undefined> {
  const { rows } = await db.query(`SELECT ${columns} FROM recurring_registrations WHERE project_id = $1 AND id = $2 FOR UPDATE`, [String(projectId), String(id)]);
  return rows[0] ? toRegistration(rows[0]) : undefined;
}

export async function findRegistrationOfPayment(db: Queryable, paymentRef: bigint): Promise<RegistrationRecord | undefined> {
  const { rows } = await db.query(`SELECT ${columns} FROM recurring_registrations WHERE payment_ref = $1`, [String(paymentRef)]);
  return rows[0] ? toRegistration(rows[0]) : undefined;
}

export async function updateRegistration(
  db: Queryable,
  id: bigint,
  changes: Partial<{ status: RegistrationStatus; vaultId: string | null; debitsScheduled: number; cancelledAt: Date }>,
): Promise<void> {
  const map: Record<string, string> = { status: 'status', vaultId: 'vault_id', debitsScheduled: 'debits_scheduled', cancelledAt: 'cancelled_at' };
  const keys = Object.keys(changes) as (keyof typeof changes)[];
  if (keys.length === 0) return;
  await db.query(
    `UPDATE recurring_registrations SET ${keys.map((key, index) => `${map[key]} = $${index + 2}`).join(', ')} WHERE id = $1`,
    [String(id), ...keys.map((key) => changes[key])],
  );
}
