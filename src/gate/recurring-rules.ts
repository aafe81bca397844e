import { GateError } from '../domain/errors.ts';
import {
  calendarDateOf,
  calendarDaysBetween,
  expiryDate,
  parseDayMonthYear,
  parseTimeOfDay,
  periodFrom,
  type CalendarDate,
  type Period,
} from '../domain/recurring.ts';
import type { RecurringRegistrationBody } from './schemas.ts';

/**
 * Turns a request's `recurring` object into a registration plan, or refuses
 * it with 3181 and a message saying which rule it broke. Nothing is written
 * before this passes.
 */
export interface RegistrationPlan {
  type: 'R' | 'U';
  period: Period | undefined;
  interval: number;
  timeOfDaySeconds: number | undefined;
  startDate: CalendarDate | undefined;
  amountMinor: bigint | undefined;
  expiry: CalendarDate | undefined;
  scheduledPaymentId: string | undefined;
}

function invalid(detail: string): never {
  throw new GateError('cofInvalid', detail);
}

function asNumber(value: number | string | undefined): number | undefined {
  return value === undefined ? undefined : Number(value);
}

export function planRegistration(recurring: RecurringRegistrationBody, paymentId: string, now: Date): RegistrationPlan {
  if (recurring.period !== undefined && recurring.cycle !== undefined && periodFrom(undefined, recurring.cycle) !== recurring.period) {
    invalid('recurring.period and recurring.cycle disagree');
  }
  const period = periodFrom(recurring.period, recurring.cycle);
  if (recurring.interval !== undefined && period === undefined) invalid('recurring.interval needs recurring.period');
  const timeOfDaySeconds = recurring.time === undefined ? undefined : parseTimeOfDay(recurring.time);
  if (recurring.time !== undefined && timeOfDaySeconds === undefined) invalid('recurring.time must be a time of day hh:mm:ss');
  if (recurring.time !== undefined && period === undefined) invalid('recurring.time needs recurring.period');
  const today = calendarDateOf(now);
  let startDate: CalendarDate | undefined;
  if (recurring.start_date !== undefined) {
    startDate = parseDayMonthYear(recurring.start_date) ?? invalid('recurring.start_date is not a date (DD-MM-YYYY)');
    if (recurring.scheduled_payment_id === undefined) invalid('recurring.start_date needs recurring.scheduled_payment_id');
    if (period === undefined) invalid('recurring.start_date needs recurring.period');
    if (calendarDaysBetween(today, startDate) < 1) invalid('recurring.start_date must be at least one day after registration');
  }
  if (recurring.scheduled_payment_id !== undefined && recurring.scheduled_payment_id === paymentId) {
    invalid('recurring.scheduled_payment_id must differ from general.payment_id');
  }
  if (period !== undefined && recurring.type !== 'R') invalid('a schedule (recurring.period) is only for regular (R) COF purchases');
  const expiryYear = recurring.expiry_year;
  const expiryMonth = asNumber(recurring.expiry_month);
  let expiry: CalendarDate | undefined;
  if (expiryYear !== undefined || expiryMonth !== undefined || recurring.expiry_day !== undefined) {
    if (expiryYear === undefined || expiryMonth === undefined) invalid('recurring.expiry_month and recurring.expiry_year go together');
    expiry = expiryDate(asNumber(recurring.expiry_day), expiryMonth, expiryYear) ?? invalid('recurring expiry is not a date');
    if (calendarDaysBetween(today, expiry) < 0) invalid('recurring expiry is in the past');
    if (startDate && calendarDaysBetween(startDate, expiry) < 0) invalid('recurring.start_date is after the expiry');
  }
  return {
    type: recurring.type,
    period,
    interval: recurring.interval ?? 1,
    timeOfDaySeconds,
    startDate,
    amountMinor: recurring.amount === undefined ? undefined : BigInt(recurring.amount),
    expiry,
    scheduledPaymentId: recurring.scheduled_payment_id,
  };
}
