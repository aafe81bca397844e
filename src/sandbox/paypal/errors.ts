/**
 * Every error the PayPal sandbox can answer, in one registry. The shapes are
 * PayPal's: `{name, message, debug_id, details: [{field?, value?, location?,
 * issue, description}], links}` with the HTTP status of `name`. The README's
 * error table lists the same issues; a test keeps the two in step.
 */
import { randomBytes } from 'node:crypto';

/** Top-level error names with their HTTP status and PayPal's message. */
export const errorNames = {
  INVALID_REQUEST: { httpStatus: 400, message: 'Request is not well-formed, syntactically incorrect, or violates schema.' },
  USER_BUSINESS_ERROR: { httpStatus: 400, message: 'User business error.' },
  AUTHENTICATION_FAILURE: {
    httpStatus: 401,
    message: 'Authentication failed due to invalid authentication credentials or a missing Authorization header.',
  },
  RESOURCE_NOT_FOUND: { httpStatus: 404, message: 'The specified resource does not exist.' },
  UNPROCESSABLE_ENTITY: {
    httpStatus: 422,
    message: 'The requested action could not be performed, semantically incorrect, or failed business validation.',
  },
  INTERNAL_SERVER_ERROR: { httpStatus: 500, message: 'An internal server error has occurred.' },
  SERVICE_UNAVAILABLE: { httpStatus: 503, message: 'Service Unavailable.' },
} as const satisfies Record<string, { httpStatus: number; message: string }>;

export type ErrorName = keyof typeof errorNames;

/** Which part of PayPal's documentation explains an issue (used for the information link). */
type DocumentationSection = 'orders/v2' | 'payments/v2' | 'payments.payouts-batch/v1' | 'payment-tokens/v3' | 'overview';

interface IssueDefinition {
  name: ErrorName;
  description: string;
  documentation: DocumentationSection;
}

export const issues = {
  // Request shape (400).
  MISSING_REQUIRED_PARAMETER: { name: 'INVALID_REQUEST', description: 'A required field / parameter is missing.', documentation: 'overview' },
  INVALID_PARAMETER_VALUE: { name: 'INVALID_REQUEST', description: 'A parameter value is not valid.', documentation: 'overview' },
  INVALID_PARAMETER_SYNTAX: {
    name: 'INVALID_REQUEST',
    description: 'The value of a field does not conform to the expected format.',
    documentation: 'overview',
  },
  MALFORMED_REQUEST_JSON: { name: 'INVALID_REQUEST', description: 'The request JSON is not well formed.', documentation: 'overview' },
  SENDER_BATCH_ID_ALREADY_USED: {
    name: 'USER_BUSINESS_ERROR',
    description: 'Batch with given sender_batch_id already exists.',
    documentation: 'payments.payouts-batch/v1',
  },
  // Authentication (401).
  INVALID_ACCESS_TOKEN: {
    name: 'AUTHENTICATION_FAILURE',
    description: 'The Bearer access token is missing, malformed or expired. Get one from /v1/oauth2/token.',
    documentation: 'overview',
  },
  // Unknown ids (404).
  INVALID_RESOURCE_ID: {
    name: 'RESOURCE_NOT_FOUND',
    description: 'Specified resource ID does not exist. Please check the resource ID and try again.',
    documentation: 'overview',
  },
  // Amounts (422).
  CURRENCY_NOT_SUPPORTED: { name: 'UNPROCESSABLE_ENTITY', description: 'Currency code is not supported.', documentation: 'orders/v2' },
  DECIMAL_PRECISION: {
    name: 'UNPROCESSABLE_ENTITY',
    description: 'If the currency supports decimals, only two decimal place precision is supported.',
    documentation: 'orders/v2',
  },
  DECIMALS_NOT_SUPPORTED: { name: 'UNPROCESSABLE_ENTITY', description: 'Currency does not support decimals.', documentation: 'orders/v2' },
  CANNOT_BE_ZERO_OR_NEGATIVE: {
    name: 'UNPROCESSABLE_ENTITY',
    description: 'Must be greater than zero. If the currency supports decimals, only two decimal place precision is supported.',
    documentation: 'orders/v2',
  },
  // Orders (422).
  ACTION_DOES_NOT_MATCH_INTENT: {
    name: 'UNPROCESSABLE_ENTITY',
    description: 'The action does not match the intent the order was created with: use /capture for intent=CAPTURE and /authorize for intent=AUTHORIZE.',
    documentation: 'orders/v2',
  },
  ORDER_NOT_APPROVED: {
    name: 'UNPROCESSABLE_ENTITY',
    description:
      "Payer has not yet approved the Order for payment. Please redirect the payer to the 'rel':'approve' url returned as part of the HATEOAS links within the Create Order call or provide a valid payment_source in the request.",
    documentation: 'orders/v2',
  },
  ORDER_ALREADY_CAPTURED: {
    name: 'UNPROCESSABLE_ENTITY',
    description: "Order already captured. If 'intent=CAPTURE' only one capture per order is allowed.",
    documentation: 'orders/v2',
  },
  ORDER_ALREADY_AUTHORIZED: {
    name: 'UNPROCESSABLE_ENTITY',
    description: "Order already authorized. If 'intent=AUTHORIZE' only one authorization per order is allowed.",
    documentation: 'orders/v2',
  },
  INSTRUMENT_DECLINED: {
    name: 'UNPROCESSABLE_ENTITY',
    description: "The instrument presented was either declined by the processor or bank, or it can't be used for this payment.",
    documentation: 'orders/v2',
  },
  PAYMENT_SOURCE_CANNOT_BE_USED: {
    name: 'UNPROCESSABLE_ENTITY',
    description: 'The provided payment source cannot be used to pay for the order: the vault token is unknown or was deleted.',
    documentation: 'orders/v2',
  },
  // Authorizations (422).
  AUTHORIZATION_VOIDED: {
    name: 'UNPROCESSABLE_ENTITY',
    description: 'A voided authorization cannot be captured or reauthorized.',
    documentation: 'payments/v2',
  },
  AUTHORIZATION_ALREADY_CAPTURED: {
    name: 'UNPROCESSABLE_ENTITY',
    description: 'Authorization has been previously captured and hence cannot be captured again.',
    documentation: 'payments/v2',
  },
  AUTHORIZATION_EXPIRED: {
    name: 'UNPROCESSABLE_ENTITY',
    description: 'An expired authorization cannot be captured or voided.',
    documentation: 'payments/v2',
  },
  MAX_CAPTURE_AMOUNT_EXCEEDED: {
    name: 'UNPROCESSABLE_ENTITY',
    description: 'Capture amount exceeds the amount that remains authorized.',
    documentation: 'payments/v2',
  },
  CURRENCY_MISMATCH: {
    name: 'UNPROCESSABLE_ENTITY',
    description: 'Currency of capture must be the same as currency of authorization.',
    documentation: 'payments/v2',
  },
  PREVIOUSLY_CAPTURED: {
    name: 'UNPROCESSABLE_ENTITY',
    description: 'Authorization has been previously captured and hence cannot be voided.',
    documentation: 'payments/v2',
  },
  PREVIOUSLY_VOIDED: {
    name: 'UNPROCESSABLE_ENTITY',
    description: 'Authorization has been previously voided and hence cannot be voided again.',
    documentation: 'payments/v2',
  },
  // Refunds (422).
  REFUND_AMOUNT_EXCEEDED: {
    name: 'UNPROCESSABLE_ENTITY',
    description: 'The refund amount must be less than or equal to the capture amount that has not yet been refunded.',
    documentation: 'payments/v2',
  },
  CAPTURE_FULLY_REFUNDED: { name: 'UNPROCESSABLE_ENTITY', description: 'The capture has already been fully refunded.', documentation: 'payments/v2' },
  REFUND_NOT_ALLOWED: {
    name: 'UNPROCESSABLE_ENTITY',
    description: 'Refund is not allowed for this capture (sandbox scenario: declined refund).',
    documentation: 'payments/v2',
  },
  PENDING_CAPTURE: {
    name: 'UNPROCESSABLE_ENTITY',
    description: 'Cannot initiate a refund as the capture is pending or was declined.',
    documentation: 'payments/v2',
  },
  REFUND_CAPTURE_CURRENCY_MISMATCH: {
    name: 'UNPROCESSABLE_ENTITY',
    description: 'Refund must be in the same currency as the capture.',
    documentation: 'payments/v2',
  },
  // Availability (500 / 503).
  INTERNAL_SERVICE_ERROR: { name: 'INTERNAL_SERVER_ERROR', description: 'An internal service error has occurred.', documentation: 'overview' },
  SERVICE_UNAVAILABLE: {
    name: 'SERVICE_UNAVAILABLE',
    description: 'The service is temporarily unavailable. Retry the request with the same PayPal-Request-Id.',
    documentation: 'overview',
  },
} as const satisfies Record<string, IssueDefinition>;

export type Issue = keyof typeof issues;

export interface IssueLocation {
  field?: string;
  value?: string;
  location?: 'body' | 'path' | 'query' | 'header';
}

export interface PaypalErrorBody {
  name: ErrorName;
  message: string;
  debug_id: string;
  details: Array<IssueLocation & { issue: Issue; description: string }>;
  links: Array<{ href: string; rel: string; method: 'GET' }>;
}

/** A failure a client can see. Throw it anywhere under a handler; the plugin's error handler answers it. */
export class SandboxError extends Error {
  readonly issue: Issue;
  readonly location: IssueLocation;
  constructor(issue: Issue, location: IssueLocation = {}) {
    super(`${issues[issue].name}: ${issue}`);
    this.issue = issue;
    this.location = location;
  }

  get httpStatus(): number {
    return errorNames[issues[this.issue].name].httpStatus;
  }

  body(): PaypalErrorBody {
    return errorBody(this.issue, this.location);
  }
}

export function errorBody(issue: Issue, location: IssueLocation = {}): PaypalErrorBody {
  const definition: IssueDefinition = issues[issue];
  return {
    name: definition.name,
    message: errorNames[definition.name].message,
    debug_id: newDebugId(),
    details: [{ ...location, issue, description: definition.description }],
    links: [
      {
        href: `https://developer.paypal.com/docs/api/${definition.documentation}/#error-${issue}`,
        rel: 'information_link',
        method: 'GET',
      },
    ],
  };
}

/** PayPal's debug ids are 13 lower-case hex digits; also sent as the `Paypal-Debug-Id` header. */
export function newDebugId(): string {
  return randomBytes(7).toString('hex').slice(0, 13);
}

/** The OAuth endpoint answers in the OAuth 2 error format, not PayPal's. */
export const oauthErrors = {
  invalidClient: { httpStatus: 401, body: { error: 'invalid_client', error_description: 'Client Authentication failed' } },
  unsupportedGrantType: {
    httpStatus: 400,
    body: { error: 'unsupported_grant_type', error_description: 'Grant Type is NULL or not client_credentials' },
  },
} as const;
