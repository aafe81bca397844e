import { sign } from './signature.ts';

/**
 * Payment Page parameters (the npm `ecommpay` SDK's names). Values are
 * written into the URL as strings: numbers as digits, booleans as
 * `true`/`false`, objects (`recurring`, `payment_methods_options`) as JSON;
 * the signature covers exactly those strings.
 */
export interface PaymentPageParams {
  payment_id: string;
  /** Minor units. */
  payment_amount: number;
  payment_currency: string;
  customer_id: string;
  payment_description?: string;
  customer_email?: string;
  customer_first_name?: string;
  customer_last_name?: string;
  customer_country?: string;
  customer_phone?: string;
  language_code?: string;
  /** `paypal-wallet` opens the PayPal method directly. */
  force_payment_method?: string;
  merchant_success_url?: string;
  merchant_fail_url?: string;
  merchant_callback_url?: string;
  /** `YYYY-MM-DDTHH:MM:SS+0000`: the page refuses to open after this. */
  best_before?: string;
  recurring?: Record<string, unknown> | string;
  [parameter: string]: string | number | boolean | Record<string, unknown> | undefined;
}

export interface PaymentPageUrlOptions {
  /** Payment Page base URL, e.g. `https://pay.example.com` (`/payment` is added). */
  baseUrl: string;
  projectId: number;
  secretKey: string;
  params: PaymentPageParams;
}

/**
 * The signed Payment Page URL: `{baseUrl}/payment?project_id=...&...&signature=...`,
 * parameters in the order given, as the npm `ecommpay` SDK builds it.
 *
 * @example
 * const url = paymentPageUrl({
 *   baseUrl: 'https://pay.example.com', projectId: 1001, secretKey,
 *   params: { payment_id: 'order-7', payment_amount: 1500, payment_currency: 'EUR', customer_id: 'c-42' },
 * });
 */
export function paymentPageUrl(options: PaymentPageUrlOptions): string {
  const params = paymentPageQuery(options.projectId, options.params, options.secretKey);
  const query = Object.entries(params)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
    .join('&');
  return `${options.baseUrl.replace(/\/+$/, '')}/payment?${query}`;
}

/** The parameters as strings with `signature` last (for a form POST or your own URL). */
export function paymentPageQuery(projectId: number, params: PaymentPageParams, secretKey: string): Record<string, string> {
  const strings: Record<string, string> = { project_id: String(projectId) };
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || key === 'signature' || key === 'project_id') continue;
    strings[key] = parameterText(value);
  }
  return { ...strings, signature: sign(strings, secretKey) };
}

function parameterText(value: string | number | boolean | Record<string, unknown>): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`${value} is not a parameter value`);
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return JSON.stringify(value);
}
