import { paypalCurrencies } from './currencies.ts';

/**
 * Exact currency conversion through the operator's FX table. Rates are
 * decimal strings (as PostgreSQL's numeric prints them) turned into integer
 * fractions, so no float ever touches an amount.
 */
export interface FxRate {
  base: string;
  quote: string;
  /** Units of `quote` per one unit of `base`, e.g. "0.860000000000". */
  rate: string;
}

interface Fraction {
  numerator: bigint;
  denominator: bigint;
}

function decimalToFraction(value: string): Fraction {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(value.trim());
  if (!match) throw new RangeError(`not a decimal rate: ${value}`);
  const fraction = match[2] ?? '';
  return { numerator: BigInt(match[1] + fraction), denominator: 10n ** BigInt(fraction.length) };
}

function exponentOf(currency: string): number {
  const rule = paypalCurrencies.get(currency);
  if (!rule) throw new RangeError(`no exponent known for ${currency}`);
  return rule.exponent;
}

/**
 * Converts minor units of `from` into minor units of `to`, rounding half up.
 * `usdRates` maps a currency to its rate against USD (units per 1 USD).
 */
export function convertMinor(amountMinor: bigint, from: string, to: string, usdRates: ReadonlyMap<string, string>): bigint {
  if (from === to) return amountMinor;
  const fromRate = usdRates.get(from);
  const toRate = usdRates.get(to);
  if (!fromRate || !toRate) throw new RangeError(`no FX rate for ${from}->${to}`);
  const fromPerUsd = decimalToFraction(fromRate);
  const toPerUsd = decimalToFraction(toRate);
  // amount_to = amount_from / 10^e_from * (to per USD / from per USD) * 10^e_to
  const numerator = amountMinor * toPerUsd.numerator * fromPerUsd.denominator * 10n ** BigInt(exponentOf(to));
  const denominator = 10n ** BigInt(exponentOf(from)) * toPerUsd.denominator * fromPerUsd.numerator;
  return (2n * numerator + denominator) / (2n * denominator);
}
