/**
 * PayPal's money rules, as the sandbox enforces them: the currencies PayPal
 * accepts, and how many decimals each may carry (HUF, JPY and TWD are whole
 * units at PayPal), from the platform's one currency table. Amounts are bigint
 * minor units inside; PayPal's decimal strings exist only in requests and
 * responses.
 */
import { paypalCurrencies } from '../../domain/currencies.ts';
import { formatDecimal, parseDecimal } from '../../domain/money.ts';
import { SandboxError } from './errors.ts';

export interface SandboxMoney {
  currency: string;
  amountMinor: bigint;
}

/** Longest amount string PayPal accepts (`value` is limited to 32 characters). */
const valueLengthMax = 32;

export function currencyDecimals(currency: string): number {
  const rule = paypalCurrencies.get(currency);
  if (!rule) throw new SandboxError('CURRENCY_NOT_SUPPORTED', { value: currency });
  return rule.exponent;
}

/** The decimal string PayPal would print: (1050n, "USD") -> "10.50", (1001n, "JPY") -> "1001". */
export function formatAmount(amountMinor: bigint, currency: string): string {
  return formatDecimal(amountMinor, currencyDecimals(currency));
}

/**
 * Reads a PayPal amount (`{currency_code, value}` in v2 APIs, `{currency, value}`
 * in Payouts v1) and checks it the way PayPal does.
 * @example parseMoney({ currency_code: 'USD', value: '10.5' }, '/purchase_units/0/amount') // { currency: 'USD', amountMinor: 1050n }
 */
export function parseMoney(input: unknown, field: string, currencyKey: 'currency_code' | 'currency' = 'currency_code'): SandboxMoney {
  if (input === undefined || input === null) throw new SandboxError('MISSING_REQUIRED_PARAMETER', { field, location: 'body' });
  if (typeof input !== 'object') throw new SandboxError('INVALID_PARAMETER_SYNTAX', { field, location: 'body' });
  const record = input as Record<string, unknown>;
  const currency = record[currencyKey];
  const value = record.value;
  if (currency === undefined) throw new SandboxError('MISSING_REQUIRED_PARAMETER', { field: `${field}/${currencyKey}`, location: 'body' });
  if (value === undefined) throw new SandboxError('MISSING_REQUIRED_PARAMETER', { field: `${field}/value`, location: 'body' });
  if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)) {
    throw new SandboxError('INVALID_PARAMETER_SYNTAX', { field: `${field}/${currencyKey}`, value: String(currency), location: 'body' });
  }
  const decimals = paypalCurrencies.get(currency)?.exponent;
  if (decimals === undefined) throw new SandboxError('CURRENCY_NOT_SUPPORTED', { field: `${field}/${currencyKey}`, value: currency, location: 'body' });
  const valueField = { field: `${field}/value`, value: String(value), location: 'body' as const };
  if (typeof value !== 'string' || value.length > valueLengthMax) throw new SandboxError('INVALID_PARAMETER_SYNTAX', valueField);
  if (value.startsWith('-')) throw new SandboxError('CANNOT_BE_ZERO_OR_NEGATIVE', valueField);
  const match = /^\d+(?:\.(\d+))?$/.exec(value);
  if (!match) throw new SandboxError('INVALID_PARAMETER_SYNTAX', valueField);
  const fraction = match[1];
  if (fraction !== undefined && decimals === 0) throw new SandboxError('DECIMALS_NOT_SUPPORTED', valueField);
  if (fraction !== undefined && fraction.length > decimals) throw new SandboxError('DECIMAL_PRECISION', valueField);
  const amountMinor = parseDecimal(value, decimals);
  if (amountMinor <= 0n) throw new SandboxError('CANNOT_BE_ZERO_OR_NEGATIVE', valueField);
  return { currency, amountMinor };
}

/** `{currency_code, value}` as the v2 APIs print it. */
export function moneyV2(amountMinor: bigint, currency: string): { currency_code: string; value: string } {
  return { currency_code: currency, value: formatAmount(amountMinor, currency) };
}

/** `{currency, value}` as Payouts v1 prints it. */
export function moneyV1(amountMinor: bigint, currency: string): { currency: string; value: string } {
  return { currency, value: formatAmount(amountMinor, currency) };
}

/**
 * The sandbox's PayPal fee: 3.49 % of the gross, rounded half up, never more
 * than the gross. Only shown in breakdowns; it changes no balance.
 */
export function paypalFeeMinor(grossMinor: bigint): bigint {
  const fee = (grossMinor * 349n + 5_000n) / 10_000n;
  return fee > grossMinor ? grossMinor : fee;
}
