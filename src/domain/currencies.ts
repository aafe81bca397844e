/**
 * The currencies Gatehouse accepts, as data. `exponent` is the number of
 * minor-unit digits merchants use in `payment.amount`. The PayPal method guide
 * says HUF, JPY and TWD amounts are whole major units, so for those the wire
 * exponent is 0 (1500 HUF is sent as 1500, not 150000).
 * `onlyInCountry`: PayPal accepts BRL only in Brazil, INR only in India, MYR
 * only in Malaysia (checked against `customer.country`).
 */
export interface CurrencyRule {
  code: string;
  exponent: number;
  onlyInCountry?: string;
}

const paypalCurrencyList: CurrencyRule[] = [
  { code: 'AUD', exponent: 2 },
  { code: 'BRL', exponent: 2, onlyInCountry: 'BR' },
  { code: 'CAD', exponent: 2 },
  { code: 'CZK', exponent: 2 },
  { code: 'DKK', exponent: 2 },
  { code: 'EUR', exponent: 2 },
  { code: 'HKD', exponent: 2 },
  { code: 'HUF', exponent: 0 },
  { code: 'INR', exponent: 2, onlyInCountry: 'IN' },
  { code: 'ILS', exponent: 2 },
  { code: 'JPY', exponent: 0 },
  { code: 'MYR', exponent: 2, onlyInCountry: 'MY' },
  { code: 'MXN', exponent: 2 },
  { code: 'TWD', exponent: 0 },
  { code: 'NZD', exponent: 2 },
  { code: 'NOK', exponent: 2 },
  { code: 'PHP', exponent: 2 },
  { code: 'PLN', exponent: 2 },
  { code: 'GBP', exponent: 2 },
  { code: 'SGD', exponent: 2 },
  { code: 'SEK', exponent: 2 },
  { code: 'CHF', exponent: 2 },
  { code: 'THB', exponent: 2 },
  { code: 'USD', exponent: 2 },
];

export const paypalCurrencies: ReadonlyMap<string, CurrencyRule> = new Map(paypalCurrencyList.map((rule) => [rule.code, rule]));

/** PayPal's purchase maximum, in USD minor units (60,000.00 USD). */
export const paypalPurchaseMaximumUsdMinor = 6_000_000n;

export type CurrencyCheck =
  | { ok: true; rule: CurrencyRule }
  | { ok: false; reason: 'unsupported' | 'country' };

export function checkPaypalCurrency(currency: string, customerCountry: string | undefined): CurrencyCheck {
  const rule = paypalCurrencies.get(currency);
  if (!rule) return { ok: false, reason: 'unsupported' };
  if (rule.onlyInCountry && customerCountry !== rule.onlyInCountry) return { ok: false, reason: 'country' };
  return { ok: true, rule };
}
