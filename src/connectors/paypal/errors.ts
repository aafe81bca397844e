import type { PaypalResourceKind } from './types.ts';

/*
 * What the connector throws. A thrown error always means "the outcome is not
 * a PayPal answer about the payment"; declines are values, not errors.
 *
 * Errors carry only the HTTP method, the request path, the HTTP status and
 * PayPal's debug_id: never a header, a request body, a credential or an access
 * token, and never the underlying fetch error object (it is reduced to its
 * `code`, such as `ECONNREFUSED`).
 */

export interface PaypalErrorContext {
  method?: string;
  /** Path below the base URL, e.g. `/v2/checkout/orders/5O1.../capture`. */
  path?: string;
  httpStatus?: number;
  debugId?: string;
}

/** Stable codes, one per error class, for logs and for the jobs' retry decisions. */
export type PaypalConnectorErrorCode =
  | 'PAYPAL_UNAVAILABLE'
  | 'PAYPAL_NOT_FOUND'
  | 'PAYPAL_AUTHENTICATION_FAILED'
  | 'PAYPAL_UNKNOWN_STATUS';

function describe(summary: string, context: PaypalErrorContext): string {
  const parts = [summary];
  if (context.method && context.path) parts.push(`(${context.method} ${context.path})`);
  if (context.httpStatus !== undefined) parts.push(`HTTP ${context.httpStatus}`);
  if (context.debugId) parts.push(`debug_id ${context.debugId}`);
  return parts.join(' ');
}

export abstract class PaypalConnectorError extends Error {
  abstract readonly code: PaypalConnectorErrorCode;
  readonly method?: string;
  readonly path?: string;
  readonly httpStatus?: number;
  readonly debugId?: string;

  constructor(summary: string, context: PaypalErrorContext) {
    super(describe(summary, context));
    this.method = context.method;
    this.path = context.path;
    this.httpStatus = context.httpStatus;
    this.debugId = context.debugId;
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      method: this.method,
      path: this.path,
      httpStatus: this.httpStatus,
      debugId: this.debugId,
    };
  }
}

/** Why PayPal could not give an answer. */
export type ProviderUnavailableReason =
  /** `timeoutMs` elapsed before the whole answer arrived. */
  | 'timeout'
  /** Connection refused, reset, DNS failure... */
  | 'network'
  /** 408, 409, 429, 5xx or another status that is neither an answer nor a refusal. */
  | 'http_status'
  /** The body is not JSON, or lacks a field the answer must have. */
  | 'malformed_response';

/**
 * PayPal's answer is unknown: it may or may not have done the work. Retry the
 * SAME call with the SAME `requestId` (PayPal then returns the first result
 * instead of repeating it), or read the resource's status, within a bounded
 * retry schedule.
 */
export class ProviderUnavailableError extends PaypalConnectorError {
  readonly code = 'PAYPAL_UNAVAILABLE';
  override readonly name = 'ProviderUnavailableError';
  readonly reason: ProviderUnavailableReason;
  /** `code` of the network error (`ECONNREFUSED`, `UND_ERR_SOCKET`...), when there was one. */
  readonly networkCode?: string;

  constructor(reason: ProviderUnavailableReason, context: PaypalErrorContext, networkCode?: string) {
    super(
      `PayPal unavailable: ${reason}${networkCode ? ` ${networkCode}` : ''}; outcome unknown, retry with the same request id`,
      context,
    );
    this.reason = reason;
    this.networkCode = networkCode;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), reason: this.reason, networkCode: this.networkCode };
  }
}

/** PayPal has no such resource (HTTP 404): a wrong id, or an id from another account or environment. */
export class ProviderNotFoundError extends PaypalConnectorError {
  readonly code = 'PAYPAL_NOT_FOUND';
  override readonly name = 'ProviderNotFoundError';

  constructor(context: PaypalErrorContext) {
    super('PayPal resource not found', context);
  }
}

/**
 * PayPal refused the credentials: the token request failed with 400/401/403,
 * or an API call still answered 401 with a freshly issued token. The request
 * was not processed. This is a configuration problem (wrong or revoked client
 * id/secret, or an environment mix-up), not a customer decline.
 */
export class ProviderAuthenticationError extends PaypalConnectorError {
  readonly code = 'PAYPAL_AUTHENTICATION_FAILED';
  override readonly name = 'ProviderAuthenticationError';

  constructor(context: PaypalErrorContext) {
    super('PayPal refused the client credentials', context);
  }
}

/**
 * PayPal answered with a status outside the closed union the connector knows.
 * Never read as "pending": the code must learn the status first. The outcome
 * is unknown, as with ProviderUnavailableError, but retrying will not help.
 */
export class UnknownProviderStatusError extends PaypalConnectorError {
  readonly code = 'PAYPAL_UNKNOWN_STATUS';
  override readonly name = 'UnknownProviderStatusError';
  readonly resource: PaypalResourceKind;
  readonly providerStatus: string;

  constructor(resource: PaypalResourceKind, providerStatus: unknown, context: PaypalErrorContext = {}) {
    const shown = typeof providerStatus === 'string' ? providerStatus.slice(0, 64) : String(typeof providerStatus);
    super(`unknown PayPal ${resource} status ${JSON.stringify(shown)}`, context);
    this.resource = resource;
    this.providerStatus = shown;
  }

  /** The same error with the request that produced it. */
  withContext(context: PaypalErrorContext): UnknownProviderStatusError {
    return new UnknownProviderStatusError(this.resource, this.providerStatus, { ...context, ...pickDefined(this) });
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), resource: this.resource, providerStatus: this.providerStatus };
  }
}

/**
 * Raised by the pure transformers when a 2xx body lacks what the answer must
 * have; the client turns it into ProviderUnavailableError('malformed_response').
 * Its message names the missing field, never a value.
 */
export class MalformedProviderResponseError extends Error {
  override readonly name = 'MalformedProviderResponseError';
}

function pickDefined(context: PaypalErrorContext): PaypalErrorContext {
  const picked: PaypalErrorContext = {};
  if (context.method !== undefined) picked.method = context.method;
  if (context.path !== undefined) picked.path = context.path;
  if (context.httpStatus !== undefined) picked.httpStatus = context.httpStatus;
  if (context.debugId !== undefined) picked.debugId = context.debugId;
  return picked;
}
