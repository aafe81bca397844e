/**
 * The wire shapes of the ecommpay merchant API as Gatehouse speaks it
 * (field names and nesting are the contract). Amounts are integers in minor
 * units (HUF, JPY and TWD in whole units, as PayPal takes them).
 */

// ---------------------------------------------------------------- requests

/**
 * `general` of a request, without `project_id` and `signature`: the client
 * adds both.
 */
export interface RequestGeneral {
  /** Your order id: up to 255 characters, unique per project. */
  payment_id: string;
  /** Callbacks of this payment go here instead of the project's callback URL. */
  merchant_callback_url?: string;
}

export interface PaymentAmount {
  /** Minor units. */
  amount: number;
  /** ISO 4217, e.g. `USD`. */
  currency: string;
  description?: string;
}

export interface Customer {
  id: string;
  ip_address: string;
  email?: string;
  first_name?: string;
  last_name?: string;
  /** ISO 3166-1 alpha-2; required with BRL, INR and MYR. */
  country?: string;
  phone?: string;
}

export interface AdditionalData {
  sender_create_date?: string;
  payments_count?: number;
  pin_verification?: 'Y' | 'N';
  face_id_verification?: 'Y' | 'N';
  /** Four `0`/`1` digits. */
  additional_verification?: string;
  ota_type?: string;
  ota_service_start_date?: string;
  ota_service_end_date?: string;
  ota_change_guest_t_f?: 0 | 1;
  ota_start_country?: string;
  ota_start_city?: string;
  ota_start_zipcode?: string;
}

export interface CallbackOptions {
  /** Seconds (0-600) to hold the callbacks of this request back. */
  delay?: number;
  /** No callbacks for this request. */
  force_disable?: boolean;
}

/** COF purchase registration on a sale or auth. */
export interface RecurringRegistration {
  register: boolean;
  /** `R` regular (scheduled by the platform), `U` on demand. */
  type: 'R' | 'U';
  period?: 'D' | 'W' | 'M' | 'Q' | 'Y';
  interval?: number;
  /** `HH:MM:SS` UTC. */
  time?: string;
  /** `DD-MM-YYYY`. */
  start_date?: string;
  amount?: number;
  expiry_day?: number | string;
  expiry_month?: number | string;
  expiry_year?: number;
  scheduled_payment_id?: string;
}

interface Common {
  general: RequestGeneral;
  additional_data?: AdditionalData;
  callback?: CallbackOptions;
}

export interface SaleRequest extends Common {
  payment: PaymentAmount;
  customer: Customer;
  return_url: { success: string; decline: string; return?: string };
  recurring?: RecurringRegistration;
}

export interface AuthRequest extends Common {
  payment: PaymentAmount;
  customer: Customer;
  return_url: { return: string; success?: string; decline?: string };
  recurring?: RecurringRegistration;
}

export type CaptureRequest = Common;
export type CancelRequest = Common;

export interface RefundRequest extends Common {
  /** Without `amount` (and `currency`), everything still refundable is refunded. */
  payment: { description: string; amount?: number; currency?: string };
}

export interface PayoutRequest extends Common {
  payment: PaymentAmount;
  customer: Customer;
  /** PayPal account id or email of the receiver. */
  account: { number: string };
}

export interface RecurringDebitRequest extends Common {
  payment: PaymentAmount;
  customer: Partial<Customer> & { ip_address: string };
  recurring: { id: number };
}

export interface RecurringCancelRequest extends Common {
  recurring: { id: number };
}

/** The synchronous answer of every Gate action: accepted for processing. */
export interface GateAccepted {
  status: 'success';
  request_id: string;
  project_id: number;
  payment_id: string;
}

// ---------------------------------------------------------------- payments and callbacks

export type PaymentType = 'purchase' | 'payout' | 'recurring';
export type PaymentStatus =
  | 'processing'
  | 'awaiting redirect result'
  | 'awaiting capture'
  | 'success'
  | 'decline'
  | 'canceled'
  | 'refunded'
  | 'partially refunded'
  | 'error';
export type OperationType = 'sale' | 'auth' | 'capture' | 'cancel' | 'refund' | 'payout' | 'recurring' | 'recurring_cancel' | 'chargeback';
export type OperationStatus = 'processing' | 'awaiting redirect result' | 'success' | 'decline' | 'error' | 'expired';

export interface Money {
  amount: number;
  currency: string;
}

export interface CallbackPayment {
  id: string;
  type: PaymentType;
  status: PaymentStatus;
  /** `YYYY-MM-DDTHH:MM:SS+0000` */
  date: string;
  method: string;
  /** What the payment is worth now (after refunds). */
  sum: Money;
  description: string;
}

export interface CallbackOperation {
  id: number;
  type: OperationType;
  status: OperationStatus;
  date: string;
  created_date: string;
  /** The `request_id` of the Gate answer that started this operation. */
  request_id: string;
  sum_initial: Money;
  sum_converted: Money;
  /** `0` success, `9999` awaiting processing, `20000`/`20100` decline, ... */
  code: string;
  message: string;
  provider: { id: number; payment_id: string | null; auth_code: string; date?: string };
}

/** A callback as the platform sends it (signature already checked when you get it from the SDK). */
export interface Callback {
  project_id: number;
  payment: CallbackPayment;
  operation: CallbackOperation;
  account?: { number: string };
  customer?: { id: string };
  provider_extra_fields?: { holder: string; email: string };
  /** On the final callback of a sale or auth that registered a COF purchase. */
  recurring?: { id: number; currency: string };
  /** Intermediate callbacks of the direct Gate flow: where to send the customer. */
  redirect_data?: { method: 'GET' | 'POST'; url: string; body: Record<string, unknown> };
  signature: string;
}

/** The answer of `POST /v2/payment/status`, signed like a callback. */
export interface PaymentStatusAnswer {
  project_id: number;
  payment: CallbackPayment;
  operations: CallbackOperation[];
  errors: unknown[];
  account?: { number: string };
  customer?: { id: string };
  provider_extra_fields?: { holder: string; email: string };
  signature: string;
}
