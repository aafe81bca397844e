import { isFinalOperationStatus, type OperationStatus, type OperationType, type PaymentStatus, type PaymentType } from '../domain/statuses.ts';
import { queryJoinedRows, type Queryable } from './db.ts';
import type { FeeRule } from '../ledger/rules.ts';
import { toProject, type Project, type ProjectRow } from './projects.ts';

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

/** The SET list (with `updated_at`) and values of a payment update whose parameters start at `$first`. */
function paymentAssignments(changes: PaymentChanges, updatedAt: Date, first: number): { assignments: string; values: unknown[] } {
  const keys = Object.keys(changes) as (keyof PaymentChanges)[];
  const assignments = [...keys.map((key, index) => `${paymentColumns[key]} = $${first + index}`), `updated_at = $${first + keys.length}`];
  const values = keys.map((key) => {
    const value = changes[key];
    return typeof value === 'bigint' ? String(value) : value;
  });
  return { assignments: assignments.join(', '), values: [...values, updatedAt] };
}

/** Applies `changes`; `updatedAt` is the project's clock. */
export async function updatePayment(db: Queryable, ref: bigint, changes: PaymentChanges, updatedAt: Date): Promise<PaymentRecord> {
  const set = paymentAssignments(changes, updatedAt, 2);
  const { rows } = await db.query(`UPDATE payments SET ${set.assignments} WHERE id = $1 RETURNING *`, [String(ref), ...set.values]);
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

export async function listOperations(db: Queryable, paymentRef: bigint): Promise<OperationRecord[]> {
  const { rows } = await db.query('SELECT * FROM operations WHERE payment_ref = $1 ORDER BY id', [String(paymentRef)]);
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

/** The SET list and values of an operation update whose parameters start at `$first`. */
function operationAssignments(changes: OperationChanges, first: number): { assignments: string; values: unknown[] } {
  const keys = Object.keys(changes) as (keyof OperationChanges)[];
  return {
    // No changes still makes a valid statement (the row comes back as it is).
    assignments: keys.length === 0 ? 'id = id' : keys.map((key, index) => `${operationColumns[key]} = $${first + index}`).join(', '),
    values: keys.map((key) => (key === 'providerResponse' ? JSON.stringify(changes[key] ?? null) : changes[key])),
  };
}

export async function updateOperation(db: Queryable, id: bigint, changes: OperationChanges): Promise<OperationRecord> {
  const set = operationAssignments(changes, 2);
  const { rows } = await db.query(`UPDATE operations SET ${set.assignments} WHERE id = $1 RETURNING *`, [String(id), ...set.values]);
  return toOperation(rows[0]);
}

/**
 * Updates a payment and one of its operations in one round trip (both rows
 * already locked by the caller); gives both back as they are now.
 */
export async function updatePaymentAndOperation(
  db: Queryable,
  payment: { ref: bigint; changes: PaymentChanges; updatedAt: Date },
  operation: { id: bigint; changes: OperationChanges },
): Promise<OperationWithPayment> {
  const paymentSet = paymentAssignments(payment.changes, payment.updatedAt, 3);
  const operationSet = operationAssignments(operation.changes, 3 + paymentSet.values.length);
  const [row] = await queryJoinedRows(
    db,
    `WITH p AS (UPDATE payments SET ${paymentSet.assignments} WHERE id = $1 RETURNING *),
          o AS (UPDATE operations SET ${operationSet.assignments} WHERE id = $2 RETURNING *)
     SELECT p.*, NULL AS "|", o.* FROM p, o`,
    [String(payment.ref), String(operation.id), ...paymentSet.values, ...operationSet.values],
  );
  if (!row) throw new Error(`payment ${payment.ref} or operation ${operation.id} vanished`);
  return toOperationWithPayment(row);
}

/** An operation with its payment. */
export interface OperationWithPayment {
  operation: OperationRecord;
  payment: PaymentRecord;
}

/** A row read as `p.*, NULL AS "|", o.*` (`queryJoinedRows`). */
function toOperationWithPayment(row: Record<string, unknown>[]): OperationWithPayment {
  return { payment: toPayment(row[0]), operation: toOperation(row[1]) };
}

/** An operation and its payment as read, with what a result write needs from the same read. */
export interface ObservedOperation extends OperationWithPayment {
  /** The project's fee for this operation's type (the ledger books it if the operation succeeds). */
  fee: FeeRule | undefined;
  /** The rows' versions, for a write that checks nothing changed since (`updateIfUnchanged`). */
  versions: RowVersions;
}

/**
 * Reads an open operation and its payment in one round trip; with
 * `countAttempt`, the same statement counts one more try to reach the
 * provider (`provider_attempts`, committed before the call is made).
 * Undefined when the operation is unknown or already final.
 */
export async function findOpenOperationWithPayment(db: Queryable, id: bigint, options: { countAttempt: boolean }): Promise<ObservedOperation | undefined> {
  const operation = options.countAttempt
    ? `UPDATE operations SET provider_attempts = provider_attempts + 1
        WHERE id = $1 AND status IN ('processing', 'awaiting redirect result') RETURNING *, xmin::text AS row_version`
    : `SELECT *, xmin::text AS row_version FROM operations WHERE id = $1 AND status IN ('processing', 'awaiting redirect result')`;
  const [row] = await queryJoinedRows(
    db,
    `WITH o AS (${operation})
     SELECT p.*, NULL AS "|", o.*, NULL AS "|", fee.percent_basis_points, fee.fixed_minor, NULL AS "|", p.xmin::text AS payment, o.row_version AS operation
       FROM o JOIN payments p ON p.id = o.payment_ref
       LEFT JOIN project_fees fee ON fee.project_id = p.project_id AND fee.operation_type = o.type`,
    [String(id)],
  );
  return row && { ...toOperationWithPayment(row), fee: toFeeRule(row[2]), versions: row[3] as unknown as RowVersions };
}

/** An operation, whatever its status, with its payment, in one round trip. */
export async function findOperationWithPayment(db: Queryable, id: bigint): Promise<OperationWithPayment | undefined> {
  const [row] = await queryJoinedRows(db, 'SELECT p.*, NULL AS "|", o.* FROM operations o JOIN payments p ON p.id = o.payment_ref WHERE o.id = $1', [String(id)]);
  return row && toOperationWithPayment(row);
}

/** An operation and its payment under row lock, with the payment's project. */
export interface LockedOperation extends OperationWithPayment {
  project: Project;
  /** The project's fee for this operation's type, read with the locks: the ledger books it if the operation succeeds. */
  fee: FeeRule | undefined;
}

/**
 * Locks an operation's payment and then the operation (the lock order
 * everywhere: payment first; the LATERAL join reads the operation only once
 * the payment's row is locked) and reads the project, in one round trip.
 */
export async function lockOperationWithPayment(tx: Queryable, operationId: bigint, now: Date): Promise<LockedOperation | undefined> {
  const [row] = await queryJoinedRows(
    tx,
    `SELECT p.*, NULL AS "|", o.*, NULL AS "|", project.*, NULL AS "|", fee.percent_basis_points, fee.fixed_minor
       FROM (SELECT * FROM payments WHERE id = (SELECT payment_ref FROM operations WHERE id = $1) FOR UPDATE) p
      CROSS JOIN LATERAL (SELECT * FROM operations WHERE id = $1 AND payment_ref = p.id FOR UPDATE) o
       JOIN projects project ON project.id = p.project_id
       LEFT JOIN project_fees fee ON fee.project_id = p.project_id AND fee.operation_type = o.type`,
    [String(operationId)],
  );
  return row && { ...toOperationWithPayment(row), project: toProject(row[2] as unknown as ProjectRow, now), fee: toFeeRule(row[3]) };
}

function toFeeRule(row: Record<string, unknown>): FeeRule | undefined {
  if (row.percent_basis_points === null) return undefined;
  return { percentBasisPoints: Number(row.percent_basis_points), fixedMinor: BigInt(row.fixed_minor as bigint | string) };
}

/** The row versions (`xmin`) an optimistic write checks: any committed change to either row since the read changes them. */
export interface RowVersions {
  payment: string;
  operation: string;
}

/**
 * What `lockOperationWithPayment` reads, without locks, with the rows'
 * versions: for a write that checks nothing changed since
 * (`updateIfUnchanged`) instead of holding locks over several round trips.
 */
export async function readOperationWithPayment(db: Queryable, operationId: bigint, now: Date): Promise<(LockedOperation & { versions: RowVersions }) | undefined> {
  const [row] = await queryJoinedRows(
    db,
    `SELECT p.*, NULL AS "|", o.*, NULL AS "|", project.*, NULL AS "|", fee.percent_basis_points, fee.fixed_minor,
            NULL AS "|", p.xmin::text AS payment, o.xmin::text AS operation
       FROM operations o JOIN payments p ON p.id = o.payment_ref
       JOIN projects project ON project.id = p.project_id
       LEFT JOIN project_fees fee ON fee.project_id = p.project_id AND fee.operation_type = o.type
      WHERE o.id = $1`,
    [String(operationId)],
  );
  if (!row) return undefined;
  const versions = row[4] as unknown as RowVersions;
  return { ...toOperationWithPayment(row), project: toProject(row[2] as unknown as ProjectRow, now), fee: toFeeRule(row[3]), versions };
}

/** Numbered parameters of one statement built in parts. */
export class StatementParameters {
  readonly values: unknown[] = [];

  /** Adds a value; gives its placeholder (`$n`). */
  add(value: unknown): string {
    this.values.push(typeof value === 'bigint' ? String(value) : value);
    return `$${this.values.length}`;
  }
}

/**
 * Writes that run only if the rows did not change since they were read: CTE
 * definitions (`name AS (INSERT ...)`, names unique in the statement) that
 * read `EXISTS (SELECT 1 FROM guard)`, so they run with the updates or not
 * at all. `guard` locks both rows and is empty when either version differs.
 */
export type GuardedPart = (parameters: StatementParameters) => string[];

/**
 * Updates a payment and one of its operations, and writes `parts` (ledger
 * entries, the callback), in ONE statement and only if neither row changed
 * since `versions` were read: an optimistic form of lock, then write. The
 * guard's `FOR UPDATE` waits for a concurrent writer and then re-checks the
 * version on the row it committed, so two writers never both pass.
 * Answers the row of `selected` (what the parts wrote), or undefined when
 * something changed (nothing was written): the caller takes the locked path.
 */
export async function updateIfUnchanged(
  db: Queryable,
  versions: RowVersions,
  payment: { ref: bigint; changes: PaymentChanges; updatedAt: Date },
  operation: { id: bigint; changes: OperationChanges },
  parts: readonly GuardedPart[],
  selected = '1 AS written',
): Promise<Record<string, unknown> | undefined> {
  const parameters = new StatementParameters();
  const paymentRef = parameters.add(payment.ref);
  const operationId = parameters.add(operation.id);
  const guard = `guard AS (
      SELECT 1 FROM payments p JOIN operations o ON o.payment_ref = p.id
       WHERE p.id = ${paymentRef} AND o.id = ${operationId}
         AND p.xmin = ${parameters.add(versions.payment)}::xid AND o.xmin = ${parameters.add(versions.operation)}::xid
       FOR UPDATE OF p, o)`;
  const paymentSet = paymentAssignments(payment.changes, payment.updatedAt, parameters.values.length + 1);
  parameters.values.push(...paymentSet.values);
  const operationSet = operationAssignments(operation.changes, parameters.values.length + 1);
  parameters.values.push(...operationSet.values);
  const ctes = [
    guard,
    `p AS (UPDATE payments SET ${paymentSet.assignments} WHERE id = ${paymentRef} AND EXISTS (SELECT 1 FROM guard) RETURNING 1)`,
    `o AS (UPDATE operations SET ${operationSet.assignments} WHERE id = ${operationId} AND EXISTS (SELECT 1 FROM guard) RETURNING 1)`,
    ...parts.flatMap((part) => part(parameters)),
  ];
  const { rows } = await db.query(`WITH ${ctes.join(',\n')}\nSELECT ${selected} FROM p, o`, parameters.values);
  return rows[0];
}
