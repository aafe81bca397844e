import type { OperationStatus, OperationType, PaymentStatus, PaymentType } from '../domain/statuses.ts';
import type { Queryable } from './db.ts';

export interface CustomerRecord {
  id?: string;
  ip_address?: string;
  email?: string;
  first_name?: string;
  last_name?: string;
  country?: string;
  phone?: string;
}

export interface ReturnUrls {
  success?: string;
  decline?: string;
  return?: string;
}

export interface PayerRecord {
  payerId?: string;
  email?: string;
  name?: string;
}

export interface PaymentRecord {
  ref: bigint;
  projectId: bigint;
  paymentId: string;
  type: PaymentType;
  method: string;
  status: PaymentStatus;
  currency: string;
  amountMinor: bigint;
  authorizedMinor: bigint;
  capturedMinor: bigint;
  refundedMinor: bigint;
  refundReservedMinor: bigint;
  description: string;
  customer: CustomerRecord;
  accountNumber: string | null;
  returnUrl: ReturnUrls;
  additionalData: Record<string, unknown> | null;
  callbackUrl: string | null;
  callbackDelaySeconds: number;
  callbackDisabled: boolean;
  providerOrderId: string | null;
  providerCaptureId: string | null;
  providerAuthorizationId: string | null;
  payer: PayerRecord | null;
  /** The COF registration this payment made or debits. */
  recurringId: bigint | null;
  chargebackMinor: bigint;
  createdAt: Date;
  updatedAt: Date;
}

export interface OperationRecord {
  id: bigint;
  paymentRef: bigint;
  projectId: bigint;
  type: OperationType;
  status: OperationStatus;
  amountMinor: bigint;
  currency: string;
  convertedAmountMinor: bigint;
  convertedCurrency: string;
  requestId: string;
  code: string;
  message: string;
  providerPaymentId: string;
  providerDate: Date | null;
  providerAttempts: number;
  createdAt: Date;
  completedAt: Date | null;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
function toPayment(row: any): PaymentRecord {
  return {
    ref: row.id,
    projectId: row.project_id,
    paymentId: row.payment_id,
    type: row.type,
    method: row.method,
    status: row.status,
    currency: row.currency.trim(),
    amountMinor: row.amount_minor,
    authorizedMinor: row.authorized_minor,
    capturedMinor: row.captured_minor,
    refundedMinor: row.refunded_minor,
    refundReservedMinor: row.refund_reserved_minor,
    description: row.description,
    customer: row.customer,
    accountNumber: row.account_number,
    returnUrl: row.return_url,
    additionalData: row.additional_data,
    callbackUrl: row.callback_url,
    callbackDelaySeconds: row.callback_delay_seconds,
    callbackDisabled: row.callback_disabled,
    providerOrderId: row.provider_order_id,
    providerCaptureId: row.provider_capture_id,
    providerAuthorizationId: row.provider_authorization_id,
    payer: row.payer,
    recurringId: row.recurring_id,
    chargebackMinor: row.chargeback_minor,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toOperation(row: any): OperationRecord {
  return {
    id: row.id,
    paymentRef: row.payment_ref,
    projectId: row.project_id,
    type: row.type,
    status: row.status,
    amountMinor: row.amount_minor,
    currency: row.currency,
    convertedAmountMinor: row.converted_amount_minor,
    convertedCurrency: row.converted_currency,
    requestId: row.request_id,
    code: row.code,
    message: row.message,
    providerPaymentId: row.provider_payment_id,
    providerDate: row.provider_date,
    providerAttempts: row.provider_attempts,
    createdAt: row.created_at,
    completedAt: row.completed_at,
  };
}
/* eslint-enable @typescript-eslint/no-explicit-any */

export interface NewPayment {
  projectId: bigint;
  paymentId: string;
  type: PaymentType;
  method: string;
  status: PaymentStatus;
  currency: string;
  amountMinor: bigint;
  description: string;
  customer: CustomerRecord;
  accountNumber: string | null;
  returnUrl: ReturnUrls;
  additionalData: Record<string, unknown> | null;
  callbackUrl: string | null;
  callbackDelaySeconds: number;
  callbackDisabled: boolean;
  recurringId?: bigint | null;
  /** The project's clock. */
  createdAt: Date;
}

/** Inserts a payment; a duplicate (project_id, payment_id) raises the unique violation `payments_project_id_payment_id_key`. */
export async function insertPayment(db: Queryable, input: NewPayment): Promise<PaymentRecord> {
  const { rows } = await db.query(
    `INSERT INTO payments (project_id, payment_id, type, method, status, currency, amount_minor, description, customer,
       account_number, return_url, additional_data, callback_url, callback_delay_seconds, callback_disabled, recurring_id,
       created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17) RETURNING *`,
    [
      String(input.projectId), input.paymentId, input.type, input.method, input.status, input.currency,
      String(input.amountMinor), input.description, input.customer, input.accountNumber, input.returnUrl,
      input.additionalData, input.callbackUrl, input.callbackDelaySeconds, input.callbackDisabled,
      input.recurringId === undefined || input.recurringId === null ? null : String(input.recurringId), input.createdAt,
    ],
  );
  return toPayment(rows[0]);
}

export async function findPayment(db: Queryable, projectId: bigint, paymentId: string): Promise<PaymentRecord | undefined> {
  const { rows } = await db.query('SELECT * FROM payments WHERE project_id = $1 AND payment_id = $2', [String(projectId), paymentId]);
  return rows[0] ? toPayment(rows[0]) : undefined;
}

/** Locks the payment row for the rest of the transaction: every money decision starts here. */
export async function lockPayment(db: Queryable, projectId: bigint, paymentId: string): Promise<PaymentRecord | undefined> {
  const { rows } = await db.query('SELECT * FROM payments WHERE project_id = $1 AND payment_id = $2 FOR UPDATE', [String(projectId), paymentId]);
  return rows[0] ? toPayment(rows[0]) : undefined;
}

export async function lockPaymentByRef(db: Queryable, ref: bigint): Promise<PaymentRecord> {
  const { rows } = await db.query('SELECT * FROM payments WHERE id = $1 FOR UPDATE', [String(ref)]);
  if (!rows[0]) throw new Error(`payment ${ref} vanished`);
  return toPayment(rows[0]);
}

/** Locks the payment an operation belongs to, in one round trip (the operation's payment_ref never changes). */
export async function lockPaymentOfOperation(db: Queryable, operationId: bigint): Promise<PaymentRecord | undefined> {
  const { rows } = await db.query('SELECT * FROM payments WHERE id = (SELECT payment_ref FROM operations WHERE id = $1) FOR UPDATE', [String(operationId)]);
  return rows[0] ? toPayment(rows[0]) : undefined;
}

export async function findPaymentByRef(db: Queryable, ref: bigint): Promise<PaymentRecord | undefined> {
  const { rows } = await db.query('SELECT * FROM payments WHERE id = $1', [String(ref)]);
  return rows[0] ? toPayment(rows[0]) : undefined;
}

export async function findPaymentByProviderOrder(db: Queryable, orderId: string): Promise<PaymentRecord | undefined> {
  const { rows } = await db.query('SELECT * FROM payments WHERE provider_order_id = $1', [orderId]);
  return rows[0] ? toPayment(rows[0]) : undefined;
}

export type PaymentChanges = Partial<{
  status: PaymentStatus;
  authorizedMinor: bigint;
  capturedMinor: bigint;
  refundedMinor: bigint;
  refundReservedMinor: bigint;
  accountNumber: string | null;
  providerOrderId: string | null;
  providerCaptureId: string | null;
  providerAuthorizationId: string | null;
  payer: PayerRecord | null;
  recurringId: bigint | null;
  chargebackMinor: bigint;
}>;

const paymentColumns: Record<keyof PaymentChanges, string> = {
  status: 'status',
  authorizedMinor: 'authorized_minor',
  capturedMinor: 'captured_minor',
  refundedMinor: 'refunded_minor',
  refundReservedMinor: 'refund_reserved_minor',
  accountNumber: 'account_number',
  providerOrderId: 'provider_order_id',
  providerCaptureId: 'provider_capture_id',
  providerAuthorizationId: 'provider_authorization_id',
  payer: 'payer',
  recurringId: 'recurring_id',
  chargebackMinor: 'chargeback_minor',
};

/** Applies `changes`; `updatedAt` is the project's clock. */
export async function updatePayment(db: Queryable, ref: bigint, changes: PaymentChanges, updatedAt: Date): Promise<PaymentRecord> {
  const keys = Object.keys(changes) as (keyof PaymentChanges)[];
  const assignments = keys.map((key, index) => `${paymentColumns[key]} = $${index + 3}`);
  const values = keys.map((key) => {
    const value = changes[key];
    return typeof value === 'bigint' ? String(value) : value;
  });
  const { rows } = await db.query(
    `UPDATE payments SET ${[...assignments, 'updated_at = $2'].join(', ')} WHERE id = $1 RETURNING *`,
    [String(ref), updatedAt, ...values],
  );
  return toPayment(rows[0]);
}

/** What a new operation needs; `createdAt` is the project's clock. */
export type NewOperation = Pick<
  OperationRecord,
  'paymentRef' | 'projectId' | 'type' | 'status' | 'amountMinor' | 'currency' | 'convertedAmountMinor' | 'convertedCurrency' | 'requestId' | 'createdAt'
>;

export async function insertOperation(db: Queryable, input: NewOperation): Promise<OperationRecord> {
  const { rows } = await db.query(
    `INSERT INTO operations (payment_ref, project_id, type, status, amount_minor, currency, converted_amount_minor,
       converted_currency, request_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *`,
    [
      String(input.paymentRef), String(input.projectId), input.type, input.status, String(input.amountMinor), input.currency,
      String(input.convertedAmountMinor), input.convertedCurrency, input.requestId, input.createdAt,
    ],
  );
  return toOperation(rows[0]);
}

export async function findOperation(db: Queryable, id: bigint): Promise<OperationRecord | undefined> {
  const { rows } = await db.query('SELECT * FROM operations WHERE id = $1', [String(id)]);
  return rows[0] ? toOperation(rows[0]) : undefined;
}

export async function lockOperation(db: Queryable, id: bigint): Promise<OperationRecord> {
  const { rows } = await db.query('SELECT * FROM operations WHERE id = $1 FOR UPDATE', [String(id)]);
  if (!rows[0]) throw new Error(`operation ${id} vanished`);
  return toOperation(rows[0]);
}

export async function listOperations(db: Queryable, paymentRef: bigint): Promise<OperationRecord[]> {
  const { rows } = await db.query('SELECT * FROM operations WHERE payment_ref = $1 ORDER BY id', [String(paymentRef)]);
  return rows.map(toOperation);
}

/** Open operations of a payment (provider outcome not known yet). */
export async function findOpenOperations(db: Queryable, paymentRef: bigint): Promise<OperationRecord[]> {
  const { rows } = await db.query(
    `SELECT * FROM operations WHERE payment_ref = $1 AND status IN ('processing', 'awaiting redirect result') ORDER BY id`,
    [String(paymentRef)],
  );
  return rows.map(toOperation);
}

export type OperationChanges = Partial<{
  status: OperationStatus;
  code: string;
  message: string;
  providerPaymentId: string;
  providerDate: Date | null;
  providerResponse: unknown;
  completedAt: Date | null;
}>;

const operationColumns: Record<keyof OperationChanges, string> = {
  status: 'status',
  code: 'code',
  message: 'message',
  providerPaymentId: 'provider_payment_id',
  providerDate: 'provider_date',
  providerResponse: 'provider_response',
  completedAt: 'completed_at',
};

export async function updateOperation(db: Queryable, id: bigint, changes: OperationChanges): Promise<OperationRecord> {
  const keys = Object.keys(changes) as (keyof OperationChanges)[];
  const assignments = keys.map((key, index) => `${operationColumns[key]} = $${index + 2}`);
  const values = keys.map((key) => (key === 'providerResponse' ? JSON.stringify(changes[key] ?? null) : changes[key]));
  const { rows } = await db.query(`UPDATE operations SET ${assignments.join(', ')} WHERE id = $1 RETURNING *`, [String(id), ...values]);
  return toOperation(rows[0]);
}

export async function countProviderAttempt(db: Queryable, id: bigint): Promise<void> {
  await db.query('UPDATE operations SET provider_attempts = provider_attempts + 1 WHERE id = $1', [String(id)]);
}
