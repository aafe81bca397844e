/**
 * Money is an integer count of minor units plus an ISO 4217 code. Conversion
 * to a provider's decimal string happens here, at the edge, never with floats.
 */
export interface Money {
  amountMinor: bigint;
  currency: string;
}

/** Formats minor units as a decimal string with `exponent` fraction digits: (1050n, 2) -> "10.50". */
export function formatDecimal(amountMinor: bigint, exponent: number): string {
  if (amountMinor < 0n) throw new RangeError('amounts are never negative');
  if (exponent === 0) return amountMinor.toString();
  const digits = amountMinor.toString().padStart(exponent + 1, '0');
  return `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

/** Parses a provider's decimal string into minor units with `exponent` fraction digits: ("10.5", 2) -> 1050n. */
export function parseDecimal(value: string, exponent: number): bigint {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(value.trim());
  if (!match) throw new RangeError(`not a decimal amount: ${JSON.stringify(value)}`);
  const fraction = match[2] ?? '';
  if (fraction.length > exponent && /[^0]/.test(fraction.slice(exponent))) {
    throw new RangeError(`amount ${value} has more than ${exponent} fraction digits`);
  }
  return BigInt(match[1] + fraction.slice(0, exponent).padEnd(exponent, '0'));
}
