import { paypalCurrencies } from '../../src/domain/currencies.ts';

/**
 * Money and time as people read them. Amounts stay exact: minor units are
 * strings turned into decimals by moving the point (never through floats);
 * the currency table is the platform's own (src/domain/currencies.ts), so the
 * Dashboard uses the same exponents as Gate (HUF, JPY and TWD in whole units).
 */
export const currencyCodes = [...paypalCurrencies.keys()].sort();

export function exponentOf(currency: string): number {
  return paypalCurrencies.get(currency.trim())?.exponent ?? 2;
}

/** "1050" USD -> "10.50"; "-25" -> "-0.25". */
export function minorToDecimal(minor: string | number | bigint, currency: string): string {
  const exponent = exponentOf(currency);
  let digits = String(minor).trim();
  const negative = digits.startsWith('-');
  if (negative) digits = digits.slice(1);
  if (!/^\d+$/.test(digits)) return String(minor);
  if (exponent === 0) return `${negative ? '-' : ''}${BigInt(digits).toString()}`;
  digits = digits.padStart(exponent + 1, '0');
  const whole = BigInt(digits.slice(0, -exponent)).toString();
  return `${negative ? '-' : ''}${whole}.${digits.slice(-exponent)}`;
}

/**
 * A decimal typed by a person ("25", "25.5", "1,250.00") in minor units, or
 * an error message. Thousands separators are allowed; more decimals than
 * the currency has are not (nothing is rounded away).
 */
export function decimalToMinor(text: string, currency: string): { minor: bigint } | { error: string } {
  const exponent = exponentOf(currency);
  const cleaned = text.trim().replaceAll(',', '').replaceAll(' ', '');
  const pattern = exponent === 0 ? /^\d{1,15}$/ : new RegExp(`^\\d{1,15}(\\.\\d{1,${exponent}})?$`);
  if (!pattern.test(cleaned)) {
    return { error: exponent === 0 ? `Enter a whole number of ${currency}.` : `Enter an amount like 10.50 (at most ${exponent} decimals).` };
  }
  const [whole, fraction = ''] = cleaned.split('.');
  const minor = BigInt(whole) * 10n ** BigInt(exponent) + BigInt(fraction.padEnd(exponent, '0') || '0');
  if (minor <= 0n) return { error: 'Enter an amount above zero.' };
  return { minor };
}

/** "1234.50" -> "1,234.50 USD" with grouping, exact (no float). */
export function formatDecimal(decimal: string, currency: string): string {
  const negative = decimal.startsWith('-');
  const [whole, fraction] = (negative ? decimal.slice(1) : decimal).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative ? '−' : ''}${grouped}${fraction ? `.${fraction}` : ''} ${currency.trim()}`.trim();
}

export function formatMoney(minor: string | number | bigint, currency: string): string {
  return formatDecimal(minorToDecimal(minor, currency), currency);
}

/** A number for charts (volume in major units); charts may round, tables never do. */
export function minorToNumber(minor: string, currency: string): number {
  return Number(minorToDecimal(minor, currency));
}

const dateTime = new Intl.DateTimeFormat('en-GB', {
  year: 'numeric',
  month: 'short',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  timeZone: 'UTC',
  hour12: false,
});
const dateOnly = new Intl.DateTimeFormat('en-GB', { year: 'numeric', month: 'short', day: '2-digit', timeZone: 'UTC' });

/** Times are shown in UTC, like the platform's reports and callbacks. */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${dateTime.format(date)} UTC`;
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso.length === 10 ? `${iso}T00:00:00Z` : iso);
  return Number.isNaN(date.getTime()) ? iso : dateOnly.format(date);
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function formatDuration(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400} day${seconds === 86_400 ? '' : 's'}`;
  if (seconds % 3_600 === 0) return `${seconds / 3_600} hour${seconds === 3_600 ? '' : 's'}`;
  if (seconds % 60 === 0) return `${seconds / 60} minutes`;
  return `${seconds} seconds`;
}

/** YYYY-MM-DD of a date (UTC), for date inputs. */
export function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

export function daysAgo(days: number, from = new Date()): Date {
  return new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate() - days));
}

/** The day after `day` (YYYY-MM-DD): a "to" date picked by a person includes that whole day. */
export function dayAfter(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + 1);
  return isoDay(date);
}

export const roleLabels: Record<string, string> = {
  merchant_admin: 'Admin',
  merchant_viewer: 'Viewer',
  operator: 'Operator',
};

export function humanize(value: string): string {
  const text = value.replaceAll('_', ' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}
