import { Type, type TSchema } from '@sinclair/typebox';
import { errorCodes, type ErrorCodeEntry, type ErrorName } from '../domain/errors.ts';
import { operationStatuses, operationTypes, paymentStatuses } from '../domain/statuses.ts';

/**
 * Response schemas and error-code documentation of the documented routes
 * (Gate and the Data API; the Dashboard API's are in src/dashboard/documentation.ts). Route files import these as schema
 * metadata; `openapi.ts` turns the routes into the OpenAPI document.
 */

/** Where a registry code comes from: the real platform's registry or ours. */
export type ErrorCodeOrigin = 'ecommpay' | 'Gatehouse';

export interface DocumentedErrorCode {
  code: string;
  http_status: number;
  message: string;
  origin: ErrorCodeOrigin;
}

/** Every registry code, in registry order: the document's `x-error-codes`. */
export function documentedErrorCodes(): DocumentedErrorCode[] {
  return Object.values(errorCodes).map((entry: ErrorCodeEntry) => ({
    code: entry.code,
    http_status: entry.httpStatus,
    message: entry.message,
    origin: entry.gatehouse ? 'Gatehouse' : 'ecommpay',
  }));
}

// ---------------------------------------------------------------- response schemas

export const AcceptedResponse = Type.Object(
  {
    status: Type.Literal('success'),
    request_id: Type.String({ description: 'Unique per request; the operation it started carries it as `operation.request_id` in callbacks.' }),
    project_id: Type.Integer(),
    payment_id: Type.String(),
  },
  { description: 'Accepted for processing. The result arrives by callback; `POST /v2/payment/status` tells the state at any time.' },
);

export const ErrorResponse = Type.Object(
  {
    status: Type.Literal('error'),
    code: Type.String({ description: 'A code of the error registry (`x-error-codes`, docs/error-codes.md).' }),
    message: Type.String({ description: 'The registry message, with the offending field or detail after a colon.' }),
    request_id: Type.String(),
  },
  { description: 'The request was refused; nothing was written.' },
);

const Money = Type.Object({ amount: Type.Integer({ description: 'Minor units' }), currency: Type.String() });
const literals = (values: readonly string[]) => Type.Union(values.map((value) => Type.Literal(value)));

/** One operation as callbacks and the status answer show it. */
export const OperationView = Type.Object({
  id: Type.Integer(),
  type: literals(operationTypes),
  status: literals(operationStatuses),
  date: Type.String({ description: 'YYYY-MM-DDTHH:MM:SS+0000' }),
  created_date: Type.String(),
  request_id: Type.String(),
  sum_initial: Money,
  sum_converted: Money,
  code: Type.String({ description: 'Operation code: 0, 9999, 20000, 20100, 20105, 20106 (see `x-error-codes`).' }),
  message: Type.String(),
  provider: Type.Object({
    id: Type.Integer(),
    payment_id: Type.Union([Type.String(), Type.Null()], { description: 'The PayPal order id' }),
    auth_code: Type.String(),
    date: Type.Optional(Type.String()),
  }),
});

export const PaymentView = Type.Object({
  id: Type.String(),
  type: literals(['purchase', 'payout', 'recurring']),
  status: literals(paymentStatuses),
  date: Type.String(),
  method: Type.String(),
  sum: Money,
  description: Type.String(),
});

export const StatusResponse = Type.Object(
  {
    project_id: Type.Integer(),
    payment: PaymentView,
    account: Type.Optional(Type.Object({ number: Type.String() })),
    customer: Type.Optional(Type.Object({ id: Type.String() })),
    provider_extra_fields: Type.Optional(Type.Object({ holder: Type.String(), email: Type.String() })),
    operations: Type.Array(OperationView),
    errors: Type.Array(Type.Unknown()),
    signature: Type.String({ description: 'Signed like a callback, with the project secret key.' }),
  },
  { description: 'The payment and all its operations, oldest first, signed like a callback.' },
);

export const TestClockResponse = Type.Object(
  {
    project_id: Type.Integer(),
    test_clock: Type.String({ format: 'date-time' }),
    frozen: Type.Boolean({ description: 'True once the clock was set: it no longer follows real time.' }),
    tasks_run: Type.Optional(Type.Integer({ description: 'Timers performed while advancing (advance only).' })),
  },
  { description: "The test project's clock." },
);

const linkStatuses = ['active', 'paid', 'expired'] as const;

export const PaymentLinkCreatedResponse = Type.Object(
  {
    status: Type.Literal('success'),
    request_id: Type.String(),
    project_id: Type.Integer(),
    link_id: Type.String({ description: 'The link id (for `POST /v2/payment-links/status`).' }),
    url: Type.String({ description: 'The page to give the customer: `<PUBLIC_URL>/pay/<link_id>`.' }),
    single_use: Type.Boolean(),
    expires_at: Type.Union([Type.String({ description: 'YYYY-MM-DDTHH:MM:SS+0000' }), Type.Null()]),
  },
  { description: 'The link, ready to send to a customer.' },
);

export const PaymentLinkStatusResponse = Type.Object(
  {
    project_id: Type.Integer(),
    link: Type.Object({
      id: Type.String(),
      url: Type.String(),
      status: Type.Union(linkStatuses.map((status) => Type.Literal(status)), {
        description: '`paid`: a single-use link with a successful payment; `expired`: past `expires_at`; else `active`.',
      }),
      amount: Type.Integer({ description: 'Minor units' }),
      currency: Type.String(),
      description: Type.String(),
      single_use: Type.Boolean(),
      expires_at: Type.Union([Type.String(), Type.Null()]),
      created_at: Type.String(),
      paid_count: Type.Integer({ description: 'Successful payments through the link.' }),
      payments: Type.Array(
        Type.Object({
          payment_id: Type.String({ description: '`link-<link_id>-<n>`, one per attempt; each reports by callback like a Gate sale.' }),
          status: literals(paymentStatuses),
          date: Type.Union([Type.String(), Type.Null()]),
        }),
      ),
    }),
  },
  { description: 'The link, its status and the payments made through it.' },
);

/** Errors any documented request can get: parsing, validation, limits, the project and its signature. */
const everyRequest: readonly ErrorName[] = [
  'invalidJson',
  'requiredFieldMissing',
  'invalidFieldFormat',
  'requestTooLarge',
  'tooManyRequests',
  'unsupportedMediaType',
  'projectNotFound',
  'invalidSignature',
  'emptySignature',
  'internalError',
];
const walletRequest: readonly ErrorName[] = [...everyRequest, 'unsupportedEndpoint', 'methodNotEnabled'];
/** Errors any Data API request can get: everyRequest's, with a user and a time instead of a project. */
const dataApiRequest: readonly ErrorName[] = [
  ...everyRequest.filter((name) => name !== 'projectNotFound'),
  'dataApiUserUnknown',
  'requestTimestampInvalid',
  'dashboardNotFound',
];
const newMoney: readonly ErrorName[] = ['currencyNotSupported', 'currencyNotAllowedInCountry', 'amountAboveMaximum', 'paymentIdExists'];
const followUp: readonly ErrorName[] = ['paymentNotFound', 'statusForbidsAction'];

/**
 * The registry errors each documented route can answer, read from the
 * handlers' `GateError`s. Every registry code is in the document's
 * `x-error-codes` either way.
 */
export const documentedRouteErrors = {
  sale: [...walletRequest, ...newMoney, 'cofInvalid'],
  auth: [...walletRequest, ...newMoney, 'cofInvalid'],
  payout: [...walletRequest, ...newMoney],
  capture: [...walletRequest, ...followUp],
  cancel: [...walletRequest, ...followUp],
  refund: [...walletRequest, ...followUp, 'currencyMismatch', 'refundExceedsAmount', 'refundLimitExceeded'],
  recurring: [...walletRequest, ...newMoney, 'currencyMismatch', 'cofNotFound', 'cofCancelled', 'cofExpired', 'cofInvalid'],
  'recurring/cancel': [...walletRequest, 'cofNotFound', 'cofCancelled', 'cofExpired', 'cofInvalid'],
  status: [...everyRequest, 'paymentNotFound'],
  testClock: [...everyRequest, 'testClockForbidden'],
  dataApi: dataApiRequest,
  dataApiPayment: [...dataApiRequest, 'paymentNotFound'],
  // A link is a Gate sale waiting for its customer: the purchase rules apply when it is made.
  paymentLinkCreate: [...everyRequest, 'methodNotEnabled', 'currencyNotSupported', 'amountAboveMaximum'],
  paymentLinkStatus: [...everyRequest, 'paymentNotFound'],
} as const satisfies Record<string, readonly ErrorName[]>;
export type DocumentedRoute = keyof typeof documentedRouteErrors;

/**
 * One response per HTTP status among `errorNames`, each naming the codes it
 * can carry (the Dashboard API documents its routes' errors with it too).
 */
export function errorResponses(errorNames: readonly ErrorName[]): Record<string, TSchema> {
  const byStatus = new Map<number, ErrorCodeEntry[]>();
  for (const name of new Set(errorNames)) {
    const entry = errorCodes[name];
    byStatus.set(entry.httpStatus, [...(byStatus.get(entry.httpStatus) ?? []), entry]);
  }
  const responses: Record<string, TSchema> = {};
  for (const [httpStatus, entries] of [...byStatus].sort(([left], [right]) => left - right)) {
    const codes = entries
      .sort((left, right) => Number(left.code) - Number(right.code))
      .map((entry) => `\`${entry.code}\` ${entry.message}`)
      .join('; ');
    responses[String(httpStatus)] = { ...ErrorResponse, 'x-response-description': `Error; \`code\` is one of: ${codes}.` };
  }
  return responses;
}

/**
 * The `response` part of a documented route's schema: the success shape,
 * and the error shape under each HTTP status the route's errors use.
 *
 * @example
 * app.post('/v2/...', { schema: { body, response: documentedResponses(AcceptedResponse, 'Accepted', 'sale') } }, handler)
 */
export function documentedResponses(success: TSchema, successDescription: string, route: DocumentedRoute): Record<string, TSchema> {
  return { 200: { ...success, 'x-response-description': successDescription }, ...errorResponses(documentedRouteErrors[route]) };
}

/**
 * Route option that keeps response schemas as documentation only: responses
 * are serialized with `JSON.stringify` exactly as before they were
 * documented. A schema-driven serializer drops fields a schema does not name,
 * and the status answer is signed over every field it carries.
 * `test/openapi.test.ts` checks real responses against the schemas instead.
 */
export const documentationOnlySerializer = () => (data: unknown) => JSON.stringify(data);
