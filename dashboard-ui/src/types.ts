/**
 * The Dashboard API's answers as the screens use them (see src/dashboard/*.ts
 * for the source of truth). Amounts in minor units travel as strings so no
 * precision is lost; `amount` fields are already decimals in the currency.
 */
export type Role = 'merchant_admin' | 'merchant_viewer' | 'operator';

export interface UserView {
  id: number;
  email: string;
  role: Role;
  merchant_id: number | null;
  disabled: boolean;
  locked_until: string | null;
  created_at: string;
}

export interface MerchantView {
  id: number;
  name: string;
  created_at: string;
}

export interface Me {
  user: UserView;
  merchant: MerchantView | null;
  csrf_token: string;
  idle_timeout_seconds: number;
}

export interface ProjectView {
  id: number;
  name: string;
  mode: 'test' | 'production';
  merchant_id: number | null;
  callback_url: string | null;
  hold_expiry_action: 'cancel' | 'capture';
  hold_period_seconds: number;
  paypal_enabled: boolean;
  paypal_onboarding_state: string | null;
  settlement_currency: string | null;
  previous_secret_key_valid_until: string | null;
  test_clock: string | null;
  created_at: string | null;
}

/** A project fee rule as the API answers it (fixed_minor: minor units of the operation's currency). */
export interface FeeRuleView {
  operation_type: string;
  percent_basis_points: number;
  fixed_minor: string;
}

export interface PaymentView {
  project_id: number;
  payment_id: string;
  type: string;
  method: string;
  status: string;
  currency: string;
  amount: string;
  amount_minor: string;
  captured_minor: string;
  refunded_minor: string;
  chargeback_minor: string;
  customer_id: string | null;
  account_number: string | null;
  description: string;
  created_at: string;
  updated_at: string;
}

export interface PaymentList {
  payments: PaymentView[];
  next_cursor: string | null;
}

export interface OperationView {
  id: number;
  type: string;
  status: string;
  code: string;
  message: string;
  amount_minor: string;
  amount: string;
  currency: string;
  provider_payment_id: string | null;
  request_id: string;
  created_at: string;
  completed_at: string | null;
}

export interface DeliveryAttempt {
  attempt: number;
  attempted_at: string;
  http_status: number | null;
  latency_ms: number | null;
  response_excerpt: string | null;
  error: string | null;
}

export interface CallbackView {
  id: number;
  operation_id: string | null;
  kind: string;
  url: string;
  status: string;
  attempts: number;
  next_attempt_at: string | null;
  created_at: string;
  delivered_at: string | null;
  delivery_attempts: DeliveryAttempt[];
}

export interface LedgerEntryView {
  operation_id: string | null;
  operation_type: string;
  account: string;
  currency: string;
  side: 'debit' | 'credit';
  amount_minor: string;
  booked_at: string;
}

export interface PaymentDetail {
  payment: PaymentView & {
    provider_order_id: string | null;
    provider_capture_id: string | null;
    recurring_id: number | null;
    available_for_refund_minor: string;
    customer: Record<string, unknown> | null;
    payer: Record<string, unknown> | null;
  };
  operations: OperationView[];
  callbacks: CallbackView[];
  ledger_entries: LedgerEntryView[];
}

export interface Accepted {
  status: string;
  request_id: string;
  project_id: number;
  payment_id: string;
}

export interface BalanceView {
  project_id: number;
  currency: string;
  balance_minor: string;
  accounts: Record<string, string>;
}

export interface DailyStat {
  day: string;
  currency: string;
  volume_minor: string;
  successful_operations: number;
  attempts: number;
  approved: number;
  approval_rate: string | null;
}

export interface BatchProgress {
  batch: {
    id: number;
    project_id: number;
    file_name: string;
    status: 'validated' | 'running' | 'done' | 'cancelled';
    rows_total: number;
    rows_rejected: number;
    created_at: string;
    started_at: string | null;
    finished_at: string | null;
  };
  rows: { total: number; rejected: number; pending: number; accepted: number; failed: number };
  progress_percent: number;
  payment_statuses: Record<string, number>;
  /** The first rejected rows (at most 1,000) with the registry code and message of each. */
  rejected_rows: { row_number: number; payment_id: string | null; code: string; message: string; error: string | null }[];
}

export interface BatchSummary {
  id: number;
  file_name: string;
  status: BatchProgress['batch']['status'];
  rows_total: number;
  rows_rejected: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface ReportView {
  id: number;
  project_id: number | null;
  schedule_id: number | null;
  kind: 'payments' | 'operations';
  period_from: string;
  period_to: string;
  row_count: number;
  byte_count: number;
  created_at: string;
  file_name: string;
}

export interface ScheduleView {
  id: number;
  project_id: number | null;
  kind: 'payments' | 'operations';
  frequency: 'daily' | 'weekly' | 'monthly';
  next_run_at: string;
  created_at: string;
}

export interface PciSummaryView {
  merchant_id: number;
  operations_last_year: number;
  status: 'ok' | 'expiring' | 'expired' | 'missing';
  required: { kind: string; status: string; valid_until: string | null }[];
  documents: { id: number; kind: string; issued_on: string; valid_until: string; reference: string }[];
}

export interface DataApiKeyView {
  id: number;
  label: string;
  created_at: string;
  revoked_at: string | null;
  [key: string]: unknown;
}

export interface OnboardingView {
  project_id: number;
  state: string;
  onboarding_link: string | null;
  paypal_merchant_id: string | null;
  permissions: string[];
  updated_at: string;
}

/** A production project's PayPal credentials as every answer shows them: never the secret. */
export interface PaypalCredentialsView {
  client_id: string;
  client_secret_last4: string;
  updated_at: string | null;
}

export interface FxRateView {
  base: string;
  quote: string;
  rate: string;
  updated_at: string;
}

export interface AuditEntry {
  id: string | number;
  [key: string]: unknown;
}

/** GET/POST /projects/:projectId/payment-links (src/dashboard/payment-links.ts). */
export interface PaymentLinkView {
  id: string;
  url: string;
  status: 'active' | 'paid' | 'expired';
  /** Minor units. */
  amount: number;
  currency: string;
  description: string;
  single_use: boolean;
  expires_at: string | null;
  created_at: string;
  attempts: number;
  paid_count: number;
}

export interface NotificationView {
  id: number;
  kind: 'pci_document_expiring' | 'pci_document_expired' | 'pci_document_missing';
  document_kind: string;
  offset_days: number | null;
  valid_until: string | null;
  title: string;
  body: string;
  created_at: string;
  read: boolean;
}

export interface NotificationList {
  notifications: NotificationView[];
  unread_count: number;
  next_cursor: string | null;
}

export interface PciExpiryView {
  merchant_id: number;
  merchant_name: string;
  kind: string;
  status: string;
  valid_until: string | null;
  days_left: number | null;
  last_reminder: { title: string; created_at: string } | null;
}
