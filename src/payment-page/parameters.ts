import { createHash } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { errorCodes, type ErrorName } from '../domain/errors.ts';
import { languageFor, type Language, type MessageKey } from './i18n.ts';

/**
 * The Payment Page's URL parameters (PayPal method guide, "Payment Page"
 * request format, plus the parameters of the npm `ecommpay` SDK's `Payment`
 * class that mean something here). Parsing is pure: the handler finds the
 * project, checks the signature over the parameters exactly as received, and
 * only then reads their values with `readPageParameters`.
 */
export const requiredParameters = ['project_id', 'payment_id', 'payment_amount', 'payment_currency', 'customer_id', 'signature'] as const;

/** Only `force_payment_method` value we can honour: the spec's PayPal method code. */
export const paypalMethodCode = 'paypal-wallet';

/**
 * A reason to refuse a page, with the HTTP status, the text the customer
 * reads and, when there is one, the error registry's code for the shop's
 * support. Refusals happen before anything is written.
 */
export class PageProblem extends Error {
  constructor(
    readonly httpStatus: number,
    readonly messageKey: MessageKey,
    readonly values: Readonly<Record<string, string>> = {},
    /** The error registry's code shown to the customer for the shop's support. */
    readonly code?: string,
  ) {
    super(`${messageKey} ${JSON.stringify(values)}`);
  }

  static of(httpStatus: number, messageKey: MessageKey, values: Readonly<Record<string, string>>, errorName: ErrorName): PageProblem {
    return new PageProblem(httpStatus, messageKey, values, errorCodes[errorName].code);
  }
}

export function invalidParameter(detail: string): PageProblem {
  return PageProblem.of(400, 'errorInvalid', { detail }, 'invalidFieldFormat');
}

/** Bounds on what one URL may carry (a browser URL is a few kilobytes at most anyway). */
const parameterCountMax = 100;
const jsonParameterBytesMax = 8_192;

/**
 * The query string as a flat map of decoded strings. A repeated parameter
 * (`?a=1&a=2`) is refused: the signature covers one value per name.
 */
export function readQueryString(rawQuery: string): Record<string, string> {
  const params: Record<string, string> = Object.create(null);
  let count = 0;
  for (const [name, value] of new URLSearchParams(rawQuery)) {
    count += 1;
    if (count > parameterCountMax) throw invalidParameter(`more than ${parameterCountMax} parameters`);
    if (Object.hasOwn(params, name)) throw invalidParameter(`${name} is repeated`);
    params[name] = value;
  }
  return { ...params };
}

export function checkRequired(params: Readonly<Record<string, string>>): void {
  const missing = requiredParameters.filter((name) => (params[name] ?? '') === '');
  if (missing.length > 0) {
    throw PageProblem.of(400, 'errorMissing', { names: missing.join(', ') }, missing.includes('signature') ? 'emptySignature' : 'requiredFieldMissing');
  }
}

export function readProjectId(params: Readonly<Record<string, string>>): number {
  const raw = params.project_id ?? '';
  if (!/^[1-9][0-9]{0,15}$/.test(raw) || !Number.isSafeInteger(Number(raw))) throw invalidParameter('project_id');
  return Number(raw);
}

/** The parameters of a verified Payment Page URL, read into the shapes Gate uses. */
export interface PageParameters {
  projectId: number;
  paymentId: string;
  amountMinor: bigint;
  currency: string;
  customer: {
    id: string;
    email?: string;
    first_name?: string;
    last_name?: string;
    country?: string;
    phone?: string;
  };
  description?: string;
  forced: boolean;
  additionalData?: Record<string, unknown>;
  /** The `recurring` object, parsed but not yet checked against its schema. */
  recurring?: Record<string, unknown>;
  language: Language;
  successUrl?: string;
  failUrl?: string;
  callbackUrl?: string;
  bestBefore?: Date;
}

const iso8601Pattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

function optional(params: Readonly<Record<string, string>>, name: string): string | undefined {
  const value = params[name];
  return value === undefined || value === '' ? undefined : value;
}

function jsonObject(params: Readonly<Record<string, string>>, name: string): Record<string, unknown> | undefined {
  const raw = optional(params, name);
  if (raw === undefined) return undefined;
  if (Buffer.byteLength(raw) > jsonParameterBytesMax) throw invalidParameter(`${name} is longer than ${jsonParameterBytesMax} bytes`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalidParameter(`${name} is not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalidParameter(`${name} must be a JSON object`);
  return parsed as Record<string, unknown>;
}

function webUrl(params: Readonly<Record<string, string>>, name: string): string | undefined {
  const raw = optional(params, name);
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw invalidParameter(`${name} is not a URL`);
  }
  if ((parsed.protocol !== 'https:' && parsed.protocol !== 'http:') || raw.length > 2048) throw invalidParameter(`${name} must be an http(s) URL`);
  return raw;
}

/**
 * Reads the values of signature-checked parameters. Formats Gate also checks
 * (email, phone, country, additional data) are left to the sale schema, which
 * the handler applies to the body it builds; this function checks what only
 * the page has (amount as text, JSON parameters, redirect URLs, best_before).
 */
export function readPageParameters(params: Readonly<Record<string, string>>): PageParameters {
  checkRequired(params);
  const projectId = readProjectId(params);
  const paymentId = params.payment_id;
  if (paymentId.length > 255) throw PageProblem.of(400, 'errorInvalid', { detail: 'payment_id' }, 'invalidPaymentId');
  const amountText = params.payment_amount;
  if (!/^[1-9][0-9]{0,15}$/.test(amountText) || !Number.isSafeInteger(Number(amountText))) throw invalidParameter('payment_amount');
  const currency = params.payment_currency;
  if (!/^[A-Z]{3}$/.test(currency)) throw invalidParameter('payment_currency');
  const customerId = params.customer_id;
  if (customerId.length > 255) throw invalidParameter('customer_id');

  const forcedMethod = optional(params, 'force_payment_method');
  if (forcedMethod !== undefined && forcedMethod !== paypalMethodCode) {
    throw PageProblem.of(400, 'errorPaymentRefused', { detail: `payment method ${forcedMethod} is not available` }, 'methodNotEnabled');
  }

  const methodOptions = jsonObject(params, 'payment_methods_options');
  const paypalOptions = methodOptions?.paypal_wallet;
  if (paypalOptions !== undefined && (typeof paypalOptions !== 'object' || paypalOptions === null || Array.isArray(paypalOptions))) {
    throw invalidParameter('payment_methods_options.paypal_wallet must be an object');
  }
  const additionalData = (paypalOptions as Record<string, unknown> | undefined)?.additional_data;
  if (additionalData !== undefined && (typeof additionalData !== 'object' || additionalData === null || Array.isArray(additionalData))) {
    throw invalidParameter('payment_methods_options.paypal_wallet.additional_data must be an object');
  }

  const bestBeforeText = optional(params, 'best_before');
  let bestBefore: Date | undefined;
  if (bestBeforeText !== undefined) {
    bestBefore = new Date(bestBeforeText);
    if (!iso8601Pattern.test(bestBeforeText) || Number.isNaN(bestBefore.getTime())) throw invalidParameter('best_before must be an ISO 8601 date and time');
  }

  const customer: PageParameters['customer'] = { id: customerId };
  for (const field of ['email', 'first_name', 'last_name', 'country', 'phone'] as const) {
    const value = optional(params, `customer_${field}`);
    if (value !== undefined) customer[field] = value;
  }

  return {
    projectId,
    paymentId,
    amountMinor: BigInt(amountText),
    currency,
    customer,
    description: optional(params, 'payment_description'),
    forced: forcedMethod === paypalMethodCode,
    additionalData: additionalData as Record<string, unknown> | undefined,
    recurring: jsonObject(params, 'recurring'),
    language: languageFor(optional(params, 'language_code')),
    // The npm SDK's names first, then the older merchant_* names.
    successUrl: webUrl(params, 'redirect_success_url') ?? webUrl(params, 'merchant_success_url'),
    failUrl: webUrl(params, 'redirect_fail_url') ?? webUrl(params, 'merchant_fail_url'),
    callbackUrl: optional(params, 'merchant_callback_url'),
    bestBefore,
  };
}

/**
 * Parameters that only change how or until when the page is shown: two URLs
 * for one payment_id may differ in these and still be "the same payment".
 */
const presentationParameters = new Set(['signature', 'best_before', 'language_code', 'force_payment_method']);

/**
 * A digest of everything that defines the payment. A second URL with the
 * same payment_id must give the same digest, or it is a different payment
 * reusing the id and is refused.
 */
export function paymentFingerprint(params: Readonly<Record<string, string>>): string {
  const defining = Object.entries(params)
    .filter(([name]) => !presentationParameters.has(name))
    .sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));
  return createHash('sha256').update(JSON.stringify(defining)).digest('hex');
}

/** Shape of the spec's `recurring` object (COF registration through the page). */
const dayOrMonth = Type.Union([Type.Integer({ minimum: 1, maximum: 31 }), Type.String({ pattern: '^\\d{1,2}$' })]);
export const PageRecurring = Type.Object({
  register: Type.Boolean(),
  // Required when register is true (checked by the handler).
  type: Type.Optional(Type.Union([Type.Literal('R'), Type.Literal('U')])),
  period: Type.Optional(Type.Union(['D', 'W', 'M', 'Q', 'Y'].map((value) => Type.Literal(value)))),
  time: Type.Optional(Type.String({ pattern: '^\\d{2}:\\d{2}:\\d{2}$' })),
  interval: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  amount: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000_000_000_000 })),
  expiry_day: Type.Optional(dayOrMonth),
  expiry_month: Type.Optional(dayOrMonth),
  expiry_year: Type.Optional(Type.Integer({ minimum: 1970, maximum: 9999 })),
  start_date: Type.Optional(Type.String({ pattern: '^\\d{2}-\\d{2}-\\d{4}$' })),
  scheduled_payment_id: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
});
