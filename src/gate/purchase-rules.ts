import { isIP } from 'node:net';
import { checkPaypalCurrency, paypalPurchaseMaximumUsdMinor } from '../domain/currencies.ts';
import { GateError } from '../domain/errors.ts';
import { convertMinor } from '../domain/fx.ts';
import { urlRefusal } from '../security/urls.ts';

/**
 * The PayPal method's rules for a new purchase or payout, checked before
 * anything is written: listed currencies only, BRL/INR/MYR only in their
 * country, the 60,000.00 USD purchase maximum (other currencies through the
 * FX table), and a customer IP address that is one.
 */
export function checkIpAddress(ipAddress: string | undefined): void {
  if (ipAddress !== undefined && isIP(ipAddress) === 0) throw new GateError('invalidFieldFormat', 'customer.ip_address must be an IPv4 or IPv6 address');
}

export function checkCurrency(currency: string, customerCountry: string | undefined): void {
  const check = checkPaypalCurrency(currency, customerCountry);
  if (check.ok) return;
  if (check.reason === 'unsupported') throw new GateError('currencyNotSupported', currency);
  throw new GateError('currencyNotAllowedInCountry', `${currency} requires customer.country ${countryFor(currency)}`);
}

function countryFor(currency: string): string {
  const check = checkPaypalCurrency(currency, undefined);
  return check.ok ? '' : ({ BRL: 'BR', INR: 'IN', MYR: 'MY' } as Record<string, string>)[currency] ?? '';
}

export function checkPurchaseMaximum(amountMinor: bigint, currency: string, usdRates: ReadonlyMap<string, string>): void {
  if (!usdRates.has(currency)) throw new GateError('currencyNotSupported', `no FX rate for ${currency}`);
  const usdMinor = convertMinor(amountMinor, currency, 'USD', usdRates);
  if (usdMinor > paypalPurchaseMaximumUsdMinor) throw new GateError('amountAboveMaximum', 'the purchase maximum is 60,000.00 USD');
}

/** Callback and return URLs must not point into our network (SSRF) unless the project may (test projects). */
export function checkMerchantUrls(urls: Record<string, string | undefined>, allowPrivate: boolean): void {
  for (const [field, url] of Object.entries(urls)) {
    if (url === undefined) continue;
    const refusal = urlRefusal(url, allowPrivate);
    if (refusal) throw new GateError('invalidFieldFormat', `${field} ${refusal}`);
  }
}
