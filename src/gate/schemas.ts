import { Type, type Static, type TSchema } from '@sinclair/typebox';

/**
 * Request schemas of the Gate endpoints, from the PayPal method guide's
 * "must include" lists. Unknown extra fields are allowed (the spec: "any other
 * parameters included in the specification can be used") and are never
 * stripped, because the signature covers them.
 */
const text = (maxLength: number, extra: object = {}) => Type.String({ minLength: 1, maxLength, ...extra });
const iso8601 = text(64, { pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:?\\d{2})$' });
const countryCode = Type.String({ pattern: '^[A-Z]{2}$' });
const url = text(2048, { pattern: '^https?://[^\\s]+$' });

export const General = Type.Object({
  project_id: Type.Integer({ minimum: 1, maximum: 9_007_199_254_740_991 }),
  payment_id: text(255),
  signature: Type.Optional(Type.String({ maxLength: 1024 })),
  merchant_callback_url: Type.Optional(url),
});

const Customer = (required: ('id' | 'ip_address')[]) =>
  Type.Object({
    id: required.includes('id') ? text(255) : Type.Optional(text(255)),
    ip_address: required.includes('ip_address') ? text(45) : Type.Optional(text(45)),
    email: Type.Optional(Type.String({ maxLength: 254, format: 'email' })),
    first_name: Type.Optional(text(255)),
    last_name: Type.Optional(text(255)),
    country: Type.Optional(countryCode),
    phone: Type.Optional(Type.String({ pattern: '^\\+?[0-9][0-9 ()-]{3,31}$' })),
  });

const Amount = Type.Integer({ minimum: 1, maximum: 1_000_000_000_000_000 });
const Currency = Type.String({ pattern: '^[A-Z]{3}$' });

const PurchasePayment = Type.Object({
  amount: Amount,
  currency: Currency,
  description: Type.Optional(Type.String({ maxLength: 255 })),
});

export const AdditionalData = Type.Object({
  sender_create_date: Type.Optional(iso8601),
  payments_count: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000 })),
  pin_verification: Type.Optional(Type.Union([Type.Literal('Y'), Type.Literal('N')])),
  face_id_verification: Type.Optional(Type.Union([Type.Literal('Y'), Type.Literal('N')])),
  additional_verification: Type.Optional(Type.String({ pattern: '^[01]{4}$' })),
  ota_type: Type.Optional(text(255)),
  ota_service_start_date: Type.Optional(iso8601),
  ota_service_end_date: Type.Optional(iso8601),
  ota_change_guest_t_f: Type.Optional(Type.Union([Type.Literal(0), Type.Literal(1)])),
  ota_start_country: Type.Optional(countryCode),
  ota_start_city: Type.Optional(text(255)),
  ota_start_zipcode: Type.Optional(text(32)),
});

export const CallbackOptions = Type.Object({
  delay: Type.Optional(Type.Integer({ minimum: 0, maximum: 600 })),
  force_disable: Type.Optional(Type.Boolean()),
});

const dayOrMonth = Type.Union([Type.Integer({ minimum: 1, maximum: 31 }), Type.String({ pattern: '^\\d{1,2}$' })]);

/** COF purchase registration (the spec's `recurring` object on sale/auth). */
export const RecurringRegistration = Type.Object({
  register: Type.Boolean(),
  type: Type.Union([Type.Literal('R'), Type.Literal('U')]),
  period: Type.Optional(Type.Union(['D', 'W', 'M', 'Q', 'Y'].map((value) => Type.Literal(value)))),
  cycle: Type.Optional(Type.Union(['day', 'week', 'month', 'quarter', 'year'].map((value) => Type.Literal(value)))),
  interval: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  time: Type.Optional(Type.String({ pattern: '^\\d{2}:\\d{2}:\\d{2}$' })),
  start_date: Type.Optional(Type.String({ pattern: '^\\d{2}-\\d{2}-\\d{4}$' })),
  amount: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000_000_000_000 })),
  expiry_day: Type.Optional(dayOrMonth),
  expiry_month: Type.Optional(dayOrMonth),
  expiry_year: Type.Optional(Type.Integer({ minimum: 1970, maximum: 9999 })),
  scheduled_payment_id: Type.Optional(text(255)),
});

const common = {
  general: General,
  additional_data: Type.Optional(AdditionalData),
  callback: Type.Optional(CallbackOptions),
};

export const SaleRequest = Type.Object({
  ...common,
  recurring: Type.Optional(RecurringRegistration),
  payment: PurchasePayment,
  customer: Customer(['id', 'ip_address']),
  return_url: Type.Object({ success: url, decline: url, return: Type.Optional(url) }),
});

export const AuthRequest = Type.Object({
  ...common,
  recurring: Type.Optional(RecurringRegistration),
  payment: PurchasePayment,
  customer: Customer(['id', 'ip_address']),
  return_url: Type.Object({ return: url, success: Type.Optional(url), decline: Type.Optional(url) }),
});

export const FollowUpRequest = Type.Object({ ...common });

export const RefundRequest = Type.Object({
  ...common,
  payment: Type.Object({
    description: Type.String({ maxLength: 255 }),
    amount: Type.Optional(Amount),
    currency: Type.Optional(Currency),
  }),
});

export const PayoutRequest = Type.Object({
  ...common,
  payment: PurchasePayment,
  customer: Customer(['id', 'ip_address']),
  account: Type.Object({ number: text(255) }),
});

export const StatusRequest = Type.Object({ general: General });

/** On-demand COF debit: /v2/payment/wallet/{method}/recurring. */
export const RecurringDebitRequest = Type.Object({
  ...common,
  payment: PurchasePayment,
  customer: Customer(['ip_address']),
  recurring: Type.Object({ id: Type.Integer({ minimum: 1, maximum: 9_007_199_254_740_991 }) }),
});

/** /v2/payment/wallet/{method}/recurring/cancel. */
export const RecurringCancelRequest = Type.Object({
  ...common,
  recurring: Type.Object({ id: Type.Integer({ minimum: 1, maximum: 9_007_199_254_740_991 }) }),
});

/** Test clock of a test project: /data/v1/test-clock/advance. */
export const TestClockAdvanceRequest = Type.Object({
  general: Type.Object({
    project_id: Type.Integer({ minimum: 1, maximum: 9_007_199_254_740_991 }),
    signature: Type.Optional(Type.String({ maxLength: 1024 })),
  }),
  clock: Type.Object({
    advance_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 20 * 365 * 86_400 })),
    frozen_time: Type.Optional(iso8601),
  }),
});

export type SaleBody = Static<typeof SaleRequest>;
export type AuthBody = Static<typeof AuthRequest>;
export type FollowUpBody = Static<typeof FollowUpRequest>;
export type RefundBody = Static<typeof RefundRequest>;
export type PayoutBody = Static<typeof PayoutRequest>;
export type StatusBody = Static<typeof StatusRequest>;
export type RecurringRegistrationBody = Static<typeof RecurringRegistration>;
export type RecurringDebitBody = Static<typeof RecurringDebitRequest>;
export type RecurringCancelBody = Static<typeof RecurringCancelRequest>;
export type TestClockAdvanceBody = Static<typeof TestClockAdvanceRequest>;

export const gateEndpoints = {
  sale: SaleRequest,
  auth: AuthRequest,
  capture: FollowUpRequest,
  cancel: FollowUpRequest,
  refund: RefundRequest,
  payout: PayoutRequest,
} as const satisfies Record<string, TSchema>;
export type GateEndpoint = keyof typeof gateEndpoints;
