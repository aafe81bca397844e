/**
 * COF purchase (recurring) rules, pure. The spec's `recurring` object:
 * `type` R (regular) or U (autopurchase); `period` D/W/M/Q/Y (the Gate
 * examples spell it `cycle`: day/week/month/quarter/year); `interval` 1-100;
 * `time` hh:mm:ss UTC; `start_date` DD-MM-YYYY, at least one day after
 * registration and only with `scheduled_payment_id`; `amount`;
 * `expiry_day/month/year`.
 *
 * Schedule rules where the spec is silent (documented in the README):
 * - debit k (k = 0, 1, ...) is due at start_date + k × interval × period, at
 *   `time` UTC; monthly, quarterly and yearly debits keep start_date's day and
 *   fall on the month's last day when the month is shorter (the 31st debits on
 *   30 April and 28/29 February, and on the 31st again in May); they never drift;
 * - without start_date the first debit is one interval after registration;
 * - without time, debits happen at the registration's time of day;
 * - no debit is due after the expiry date (its last day; a missing day means the
 *   month's last day);
 * - debit k's payment_id is scheduled_payment_id for k = 0, then
 *   `<scheduled_payment_id>-<k+1>` ("A2323", "A2323-2", "A2323-3", ...).
 */
export type Period = 'D' | 'W' | 'M' | 'Q' | 'Y';

const cycleToPeriod: Record<string, Period> = { day: 'D', week: 'W', month: 'M', quarter: 'Q', year: 'Y' };

export function periodFrom(period: string | undefined, cycle: string | undefined): Period | undefined {
  if (period !== undefined) return period as Period;
  if (cycle !== undefined) return cycleToPeriod[cycle];
  return undefined;
}

export interface CalendarDate {
  year: number;
  month: number; // 1-12
  day: number;
}

export interface Schedule {
  period: Period;
  interval: number;
  /** The first debit's date. */
  start: CalendarDate;
  /** Seconds after midnight UTC. */
  timeOfDaySeconds: number;
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Parses DD-MM-YYYY; undefined when it is not a real date. */
export function parseDayMonthYear(value: string): CalendarDate | undefined {
  const match = /^(\d{2})-(\d{2})-(\d{4})$/.exec(value);
  if (!match) return undefined;
  const [day, month, year] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  return { year, month, day };
}

/** Parses hh:mm:ss into seconds after midnight; undefined when invalid. */
export function parseTimeOfDay(value: string): number | undefined {
  const match = /^(\d{2}):(\d{2}):(\d{2})$/.exec(value);
  if (!match) return undefined;
  const [hours, minutes, seconds] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (hours > 23 || minutes > 59 || seconds > 59) return undefined;
  return hours * 3600 + minutes * 60 + seconds;
}

export function calendarDateOf(date: Date): CalendarDate {
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
}

function monthsPer(period: Period): number {
  switch (period) {
    case 'M':
      return 1;
    case 'Q':
      return 3;
    case 'Y':
      return 12;
    case 'D':
    case 'W':
      return 0;
    default:
      return period satisfies never;
  }
}

/** Adds `count` periods to a calendar date, keeping the anchor day (clamped to the month's last day). */
export function addPeriods(date: CalendarDate, period: Period, count: number): CalendarDate {
  if (period === 'D' || period === 'W') {
    const days = count * (period === 'W' ? 7 : 1);
    return calendarDateOf(new Date(Date.UTC(date.year, date.month - 1, date.day + days)));
  }
  const monthIndex = date.year * 12 + (date.month - 1) + count * monthsPer(period);
  const year = Math.floor(monthIndex / 12);
  const month = (monthIndex % 12) + 1;
  return { year, month, day: Math.min(date.day, daysInMonth(year, month)) };
}

/** When debit number `index` (0-based) is due. */
export function occurrenceAt(schedule: Schedule, index: number): Date {
  if (!Number.isInteger(index) || index < 0) throw new RangeError(`debit index must be a non-negative integer, got ${index}`);
  const date = addPeriods(schedule.start, schedule.period, index * schedule.interval);
  return new Date(Date.UTC(date.year, date.month - 1, date.day) + schedule.timeOfDaySeconds * 1000);
}

/** The last instant a debit may be due: the end of the expiry day (UTC). */
export function expiryInstant(expiry: CalendarDate): Date {
  return new Date(Date.UTC(expiry.year, expiry.month - 1, expiry.day, 23, 59, 59, 999));
}

/** The expiry date from expiry_day/month/year; a missing day means the month's last day. */
export function expiryDate(day: number | undefined, month: number, year: number): CalendarDate | undefined {
  if (month < 1 || month > 12 || year < 1970) return undefined;
  const last = daysInMonth(year, month);
  const resolvedDay = day ?? last;
  if (resolvedDay < 1 || resolvedDay > last) return undefined;
  return { year, month, day: resolvedDay };
}

/** payment_id of debit `index`. */
export function debitPaymentId(scheduledPaymentId: string, index: number): string {
  return index === 0 ? scheduledPaymentId : `${scheduledPaymentId}-${index + 1}`;
}

/** Whole days from `from` to `to` by calendar date (UTC). */
export function calendarDaysBetween(from: CalendarDate, to: CalendarDate): number {
  return Math.round((Date.UTC(to.year, to.month - 1, to.day) - Date.UTC(from.year, from.month - 1, from.day)) / 86_400_000);
}

export function formatCalendarDate(date: CalendarDate): string {
  return `${String(date.year).padStart(4, '0')}-${String(date.month).padStart(2, '0')}-${String(date.day).padStart(2, '0')}`;
}
