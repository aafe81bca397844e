/**
 * The one registry of codes a client can receive. Synchronous Gate errors
 * answer `{"status":"error","code","message","request_id"}` with `httpStatus`;
 * operation codes (0, 9999, 20000, 20100) travel in callbacks. The codes from
 * the real platform's registry keep their meaning; the ones marked
 * `gatehouse: true` are ours, for cases the spec's subset does not name.
 * `docs/error-codes.md` lists them all and a test keeps the two in step.
 */
export interface ErrorCodeEntry {
  code: string;
  httpStatus: number;
  message: string;
  gatehouse?: true;
}

const entries = {
  success: { code: '0', httpStatus: 200, message: 'Success' },
  awaitingProcessing: { code: '9999', httpStatus: 200, message: 'Awaiting processing' },
  generalDecline: { code: '20000', httpStatus: 200, message: 'General decline' },
  decline: { code: '20100', httpStatus: 200, message: 'Decline' },
  customerCancelled: { code: '20105', httpStatus: 200, message: 'Customer cancelled the payment', gatehouse: true },
  thresholdExpired: { code: '20106', httpStatus: 200, message: 'Payment was not completed within the threshold time', gatehouse: true },
  refundLimitExceeded: { code: '903', httpStatus: 400, message: 'Refund limit exceeded' },
  invalidJson: { code: '2003', httpStatus: 400, message: 'Invalid JSON' },
  requiredFieldMissing: { code: '2004', httpStatus: 400, message: 'Required field missing' },
  invalidFieldFormat: { code: '2005', httpStatus: 400, message: 'Invalid field format', gatehouse: true },
  requestTooLarge: { code: '2006', httpStatus: 413, message: 'Request body too large', gatehouse: true },
  tooManyRequests: { code: '2007', httpStatus: 429, message: 'Too many requests', gatehouse: true },
  unsupportedEndpoint: { code: '2010', httpStatus: 404, message: 'Unknown endpoint or payment method', gatehouse: true },
  unsupportedMediaType: { code: '2011', httpStatus: 415, message: 'Content-Type must be application/json', gatehouse: true },
  projectNotFound: { code: '3001', httpStatus: 400, message: 'Project not found', gatehouse: true },
  invalidPaymentId: { code: '3024', httpStatus: 400, message: 'Invalid payment ID' },
  currencyNotSupported: { code: '3025', httpStatus: 400, message: 'Currency is not supported by the payment method', gatehouse: true },
  currencyNotAllowedInCountry: { code: '3026', httpStatus: 400, message: 'Currency is not available in the customer country', gatehouse: true },
  amountAboveMaximum: { code: '3027', httpStatus: 400, message: 'Amount exceeds the payment method maximum', gatehouse: true },
  methodNotEnabled: { code: '3029', httpStatus: 400, message: 'Payment method is not enabled for the project', gatehouse: true },
  paymentIdExists: { code: '3041', httpStatus: 400, message: 'Payment ID already exists' },
  statusForbidsAction: { code: '3060', httpStatus: 400, message: 'Payment status does not allow this action' },
  paymentNotFound: { code: '3061', httpStatus: 404, message: 'Payment not found' },
  currencyMismatch: { code: '3062', httpStatus: 400, message: 'Currency does not match the payment currency', gatehouse: true },
  cofInvalid: { code: '3181', httpStatus: 400, message: 'COF purchase registration is invalid' },
  cofNotFound: { code: '3182', httpStatus: 400, message: 'COF purchase registration not found' },
  cofCancelled: { code: '3183', httpStatus: 400, message: 'COF purchase registration is cancelled' },
  cofExpired: { code: '3184', httpStatus: 400, message: 'COF purchase registration has expired' },
  testClockForbidden: { code: '3090', httpStatus: 400, message: 'Test clocks are available for test projects only', gatehouse: true },
  invalidSignature: { code: '3261', httpStatus: 401, message: 'Invalid signature' },
  emptySignature: { code: '3262', httpStatus: 401, message: 'Empty signature' },
  refundExceedsAmount: { code: '3283', httpStatus: 400, message: 'Refund amount exceeds the amount available for refund' },
  internalError: { code: '1000', httpStatus: 500, message: 'Internal error; the request may be retried', gatehouse: true },
  signInRequired: { code: '7001', httpStatus: 401, message: 'Sign-in required or session expired', gatehouse: true },
  signInRefused: { code: '7002', httpStatus: 401, message: 'Invalid email or password', gatehouse: true },
  accountLocked: { code: '7003', httpStatus: 423, message: 'Account locked after repeated failed sign-ins; try again later', gatehouse: true },
  csrfTokenInvalid: { code: '7004', httpStatus: 403, message: 'CSRF token missing or invalid', gatehouse: true },
  roleForbidsAction: { code: '7005', httpStatus: 403, message: 'Your role does not allow this action', gatehouse: true },
  dashboardNotFound: { code: '7006', httpStatus: 404, message: 'Not found', gatehouse: true },
  passwordTooWeak: { code: '7007', httpStatus: 400, message: 'Password does not meet the requirements', gatehouse: true },
  emailTaken: { code: '7008', httpStatus: 409, message: 'A user with this email already exists', gatehouse: true },
  csvInvalid: { code: '7009', httpStatus: 400, message: 'CSV file is invalid', gatehouse: true },
  batchStateForbidsAction: { code: '7010', httpStatus: 409, message: 'The mass payout batch is not in a state that allows this', gatehouse: true },
  dataApiUserUnknown: { code: '7011', httpStatus: 401, message: 'Unknown Data API user or no active Data API key', gatehouse: true },
  requestTimestampInvalid: { code: '7012', httpStatus: 401, message: 'Request timestamp is missing or outside the allowed window', gatehouse: true },
  onboardingStepNotAllowed: { code: '7013', httpStatus: 409, message: 'This onboarding step is not allowed from the current state', gatehouse: true },
  credentialsKeyMissing: { code: '7014', httpStatus: 503, message: 'Credentials cannot be stored: CREDENTIALS_ENCRYPTION_KEY is not set', gatehouse: true },
  productionProjectsOnly: { code: '7015', httpStatus: 409, message: 'Only production projects hold PayPal credentials; test projects use the built-in sandbox', gatehouse: true },
} as const satisfies Record<string, ErrorCodeEntry>;

export type ErrorName = keyof typeof entries;
export const errorCodes: Readonly<Record<ErrorName, ErrorCodeEntry>> = entries;

/** A client-caused failure with a registry code; the HTTP layer maps it in one place. */
export class GateError extends Error {
  readonly entry: ErrorCodeEntry;
  constructor(name: ErrorName, readonly detail?: string) {
    super(detail ? `${entries[name].message}: ${detail}` : entries[name].message);
    this.entry = entries[name];
  }
}
