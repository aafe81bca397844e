import type { OperationType } from '../domain/statuses.ts';
import type { JobsAlongside } from '../jobs/queue.ts';
import type { Queryable } from './db.ts';
import type { NewPayment } from './payments.ts';

/**
 * A new payment with its first operation and that operation's timers, as
 * one row of a multi-row write.
 */
export interface NewPaymentRow {
  payment: NewPayment;
  operation: {
    type: Extract<OperationType, 'sale' | 'auth' | 'payout'>;
    amountMinor: bigint;
    currency: string;
    convertedAmountMinor: bigint;
    convertedCurrency: string;
    requestId: string;
  };
  /** When the threshold rule declines the operation if it is still open; none for types without one. */
  thresholdDueAt: Date | undefined;
  /** When an auth's hold is released (or captured); auths only. */
  holdExpiryDueAt: Date | undefined;
}

export interface WrittenPayment {
  paymentRef: bigint;
  operationId: bigint;
}

/** The provider jobs of the rows written, one per row, written by the same statement. */
export interface NewPaymentJobs {
  alongside: JobsAlongside;
  /** Each row's job: its id and its data but the operation id, which the statement adds (`operationId`, as text). */
  perRow: readonly { id: string; data: object }[];
}

/** `project_id:payment_id`, the payments table's unique key, as one string. */
export function paymentKey(projectId: bigint, paymentId: string): string {
  return `${projectId}:${paymentId}`;
}

/**
 * Writes payments, their first operations, thresholds, hold expiries and
 * provider jobs in ONE statement, whatever the number of rows: what the
 * Gate's accept costs is round trips, not rows, and a single statement is
 * atomic without BEGIN and COMMIT, so an accept batch is one round trip and
 * one commit (docs/performance.md). A row whose
 * (project_id, payment_id) exists already is skipped (ON CONFLICT DO
 * NOTHING; a concurrent insert of the same key waits for the other
 * transaction, then is skipped if it committed): it is missing from the
 * answer, keyed by `paymentKey`. Rows must have distinct keys.
 */
export async function insertNewPayments(db: Queryable, rows: readonly NewPaymentRow[], jobs: NewPaymentJobs): Promise<Map<string, WrittenPayment>> {
  const input = rows.map((row, ordinal) => ({
    ordinal,
    project_id: String(row.payment.projectId),
    payment_id: row.payment.paymentId,
    payment_type: row.payment.type,
    method: row.payment.method,
    status: row.payment.status,
    currency: row.payment.currency,
    amount_minor: String(row.payment.amountMinor),
    description: row.payment.description,
    customer: row.payment.customer,
    account_number: row.payment.accountNumber,
    return_url: row.payment.returnUrl,
    additional_data: row.payment.additionalData,
    callback_url: row.payment.callbackUrl,
    callback_delay_seconds: row.payment.callbackDelaySeconds,
    callback_disabled: row.payment.callbackDisabled,
    created_at: row.payment.createdAt.toISOString(),
    operation_type: row.operation.type,
    operation_amount_minor: String(row.operation.amountMinor),
    operation_currency: row.operation.currency,
    converted_amount_minor: String(row.operation.convertedAmountMinor),
    converted_currency: row.operation.convertedCurrency,
    request_id: row.operation.requestId,
    threshold_due_at: row.thresholdDueAt?.toISOString() ?? null,
    hold_expiry_due_at: row.holdExpiryDueAt?.toISOString() ?? null,
    job_id: jobs.perRow[ordinal].id,
    job_data: jobs.perRow[ordinal].data,
  }));
  // pg-boss's own insert, fed the jobs of the rows written (a row skipped as a duplicate has no operation, so no job).
  const jobsJson = `(SELECT json_agg(json_build_object('id', planned.job_id, 'name', $2::text, 'startAfter', $3::text,
       'data', planned.job_data || jsonb_build_object('operationId', operation.id::text)))
       FROM planned JOIN operation USING (payment_ref))`;
  const { rows: written } = await db.query<{ project_id: string; payment_id: string; payment_ref: string; operation_id: string }>(
    `WITH input AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS t(
         ordinal int, project_id bigint, payment_id text, payment_type text, method text, status text, currency text,
         amount_minor bigint, description text, customer jsonb, account_number text, return_url jsonb, additional_data jsonb,
         callback_url text, callback_delay_seconds int, callback_disabled boolean, created_at timestamptz,
         operation_type text, operation_amount_minor bigint, operation_currency text, converted_amount_minor bigint,
         converted_currency text, request_id text, threshold_due_at timestamptz, hold_expiry_due_at timestamptz,
         job_id uuid, job_data jsonb)),
     payment AS (
       INSERT INTO payments (project_id, payment_id, type, method, status, currency, amount_minor, description, customer,
         account_number, return_url, additional_data, callback_url, callback_delay_seconds, callback_disabled, created_at, updated_at)
       SELECT project_id, payment_id, payment_type, method, status, currency, amount_minor, description, customer,
         account_number, return_url, additional_data, callback_url, callback_delay_seconds, callback_disabled, created_at, created_at
         FROM input ORDER BY ordinal
       ON CONFLICT (project_id, payment_id) DO NOTHING
       RETURNING id, project_id, payment_id),
     planned AS (
       SELECT payment.id AS payment_ref, input.* FROM payment JOIN input USING (project_id, payment_id)),
     operation AS (
       INSERT INTO operations (payment_ref, project_id, type, status, amount_minor, currency, converted_amount_minor,
         converted_currency, request_id, created_at)
       SELECT payment_ref, project_id, operation_type, 'processing', operation_amount_minor, operation_currency,
         converted_amount_minor, converted_currency, request_id, created_at
         FROM planned ORDER BY ordinal
       RETURNING id, payment_ref),
     task AS (
       INSERT INTO scheduled_tasks (project_id, kind, subject_id, due_at, dedupe_key)
       SELECT planned.project_id, due.kind, operation.id, due.due_at, due.kind || ':' || operation.id
         FROM operation
         JOIN planned USING (payment_ref)
         CROSS JOIN LATERAL (VALUES ('threshold', planned.threshold_due_at), ('hold_expiry', planned.hold_expiry_due_at)) AS due (kind, due_at)
        WHERE due.due_at IS NOT NULL
       ON CONFLICT (dedupe_key) DO NOTHING),
     job AS (${jobs.alongside.insertReading(jobsJson, 4)})
     SELECT planned.project_id, planned.payment_id, planned.payment_ref, operation.id AS operation_id
       FROM planned JOIN operation USING (payment_ref)`,
    [JSON.stringify(input), jobs.alongside.name, jobs.alongside.startAfter, ...jobs.alongside.parameters],
  );
  return new Map(written.map((row) => [paymentKey(BigInt(row.project_id), row.payment_id), { paymentRef: BigInt(row.payment_ref), operationId: BigInt(row.operation_id) }]));
}
