import { paypalCurrencies } from '../domain/currencies.ts';
import { formatDecimal } from '../domain/money.ts';

/**
 * The payment and operation queries behind the Dashboard list, the CSV
 * exports, scheduled reports and the Data API: one place builds the WHERE
 * clause from filters, so every interface filters the same way. Every query
 * carries `project_id = ANY(...)`: callers resolve which projects the user
 * may see first (merchant isolation lives there, not here).
 *
 * Columns come back as text (bigints, timestamps in UTC ISO 8601) so rows
 * stream through a cursor without type parsers and leave as exact strings.
 */
export interface PaymentFilters {
  projectIds: readonly bigint[];
  /** created_at >= from */
  from?: Date;
  /** created_at < to */
  to?: Date;
  statuses?: readonly string[];
  types?: readonly string[];
  methods?: readonly string[];
  /** Exact match on payment_id, customer id or account number. */
  search?: string;
}

export interface OperationFilters {
  projectIds: readonly bigint[];
  from?: Date;
  to?: Date;
  statuses?: readonly string[];
  types?: readonly string[];
  methods?: readonly string[];
  /** The merchant's payment_id (operations of one payment). */
  paymentId?: string;
}

export interface Query {
  text: string;
  values: unknown[];
}

const isoUtc = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

export const paymentColumns = `
  p.id::text AS ref, p.project_id::text AS project_id, p.payment_id, p.type, p.method, p.status, p.currency,
  p.amount_minor::text AS amount_minor, p.captured_minor::text AS captured_minor, p.refunded_minor::text AS refunded_minor,
  p.chargeback_minor::text AS chargeback_minor, p.customer ->> 'id' AS customer_id, p.account_number, p.description,
  ${isoUtc('p.created_at')} AS created_at, ${isoUtc('p.updated_at')} AS updated_at`;

export const operationColumns = `
  o.id::text AS operation_id, o.project_id::text AS project_id, p.payment_id, p.type AS payment_type, p.method, o.type, o.status,
  o.code, o.message, o.currency, o.amount_minor::text AS amount_minor, o.converted_currency,
  o.converted_amount_minor::text AS converted_amount_minor, o.provider_payment_id, o.request_id,
  ${isoUtc('o.created_at')} AS created_at, ${isoUtc('o.completed_at')} AS completed_at`;

export interface PaymentRow {
  ref: string;
  project_id: string;
  payment_id: string;
  type: string;
  method: string;
  status: string;
  currency: string;
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

export interface OperationRow {
  operation_id: string;
  project_id: string;
  payment_id: string;
  payment_type: string;
  method: string;
  type: string;
  status: string;
  code: string;
  message: string;
  currency: string;
  amount_minor: string;
  converted_currency: string;
  converted_amount_minor: string;
  provider_payment_id: string;
  request_id: string;
  created_at: string;
  completed_at: string | null;
}

class Conditions {
  readonly clauses: string[] = [];
  readonly values: unknown[] = [];
  add(clause: (placeholder: string) => string, value: unknown): void {
    this.values.push(value);
    this.clauses.push(clause(`$${this.values.length}`));
  }
  where(): string {
    return this.clauses.length ? `WHERE ${this.clauses.join(' AND ')}` : '';
  }
}

/**
 * `project_id = $n` for one project (the planner then walks the
 * (project_id, created_at, id) index in order), `= ANY($n)` for several.
 * With no project at all nothing matches.
 */
function addProjectCondition(conditions: Conditions, alias: 'p' | 'o', projectIds: readonly bigint[]): void {
  if (projectIds.length === 1) conditions.add((value) => `${alias}.project_id = ${value}::bigint`, String(projectIds[0]));
  else conditions.add((value) => `${alias}.project_id = ANY(${value}::bigint[])`, projectIds.map(String));
}

function paymentConditions(filters: PaymentFilters): Conditions {
  const conditions = new Conditions();
  addProjectCondition(conditions, 'p', filters.projectIds);
  if (filters.from) conditions.add((value) => `p.created_at >= ${value}`, filters.from);
  if (filters.to) conditions.add((value) => `p.created_at < ${value}`, filters.to);
  if (filters.statuses?.length) conditions.add((value) => `p.status = ANY(${value}::text[])`, filters.statuses);
  if (filters.types?.length) conditions.add((value) => `p.type = ANY(${value}::text[])`, filters.types);
  if (filters.methods?.length) conditions.add((value) => `p.method = ANY(${value}::text[])`, filters.methods);
  if (filters.search) {
    conditions.add((value) => `(p.payment_id = ${value} OR p.customer ->> 'id' = ${value} OR p.account_number = ${value})`, filters.search);
  }
  return conditions;
}

function operationConditions(filters: OperationFilters): Conditions {
  const conditions = new Conditions();
  addProjectCondition(conditions, 'o', filters.projectIds);
  if (filters.from) conditions.add((value) => `o.created_at >= ${value}`, filters.from);
  if (filters.to) conditions.add((value) => `o.created_at < ${value}`, filters.to);
  if (filters.statuses?.length) conditions.add((value) => `o.status = ANY(${value}::text[])`, filters.statuses);
  if (filters.types?.length) conditions.add((value) => `o.type = ANY(${value}::text[])`, filters.types);
  if (filters.methods?.length) conditions.add((value) => `p.method = ANY(${value}::text[])`, filters.methods);
  if (filters.paymentId !== undefined) conditions.add((value) => `p.payment_id = ${value}`, filters.paymentId);
  return conditions;
}

/**
 * One page of payments, newest first, after the payment `afterRef` (keyset
 * paging on (created_at, id): stable under inserts, no OFFSET scans).
 */
export function paymentPageQuery(filters: PaymentFilters, limit: number, afterRef?: bigint): Query {
  return perProjectPage(filters.projectIds, (projectIds) => {
    const conditions = paymentConditions({ ...filters, projectIds });
    if (afterRef !== undefined) {
      conditions.add((value) => `(p.created_at, p.id) < (SELECT created_at, id FROM payments WHERE id = ${value})`, String(afterRef));
    }
    return { conditions, from: 'payments p', columns: paymentColumns, order: 'p.created_at DESC, p.id DESC', sortKey: 'p.created_at AS sort_at, p.id AS sort_id' };
  }, limit);
}

/** Every matching payment, oldest first: for a cursor (exports and reports). */
export function paymentExportQuery(filters: PaymentFilters): Query {
  const conditions = paymentConditions(filters);
  return { text: `SELECT ${paymentColumns} FROM payments p ${conditions.where()} ORDER BY p.created_at, p.id`, values: conditions.values };
}

export function operationPageQuery(filters: OperationFilters, limit: number, afterOperationId?: bigint): Query {
  return perProjectPage(filters.projectIds, (projectIds) => {
    const conditions = operationConditions({ ...filters, projectIds });
    if (afterOperationId !== undefined) {
      conditions.add((value) => `(o.created_at, o.id) < (SELECT created_at, id FROM operations WHERE id = ${value})`, String(afterOperationId));
    }
    return {
      conditions,
      from: 'operations o JOIN payments p ON p.id = o.payment_ref',
      columns: operationColumns,
      order: 'o.created_at DESC, o.id DESC',
      sortKey: 'o.created_at AS sort_at, o.id AS sort_id',
    };
  }, limit);
}

interface PagePlan {
  conditions: Conditions;
  from: string;
  columns: string;
  order: string;
  sortKey: string;
}

/**
 * A newest-first page. For one project a plain ordered LIMIT; for several, one
 * ordered LIMIT per project (each an index walk) merged and cut to the page,
 * so a merchant-wide list costs pages, not a sort of every payment.
 */
function perProjectPage(projectIds: readonly bigint[], plan: (projectIds: readonly bigint[]) => PagePlan, limit: number): Query {
  if (projectIds.length <= 1) {
    const single = plan(projectIds);
    single.conditions.values.push(limit);
    return {
      text: `SELECT ${single.columns} FROM ${single.from} ${single.conditions.where()} ORDER BY ${single.order} LIMIT $${single.conditions.values.length}`,
      values: single.conditions.values,
    };
  }
  // The per-project subquery is planned for a placeholder project, bound per row of unnest().
  const each = plan([0n]);
  // The project condition is always the first one added: $1.
  const projectParameter = 1;
  if (each.conditions.values[0] !== '0') throw new Error('the project condition must come first');
  each.conditions.values[0] = projectIds.map(String);
  const where = each.conditions.where().replace(`project_id = $${projectParameter}::bigint`, 'project_id = selected.project_id');
  each.conditions.values.push(limit);
  const limitParameter = `$${each.conditions.values.length}`;
  return {
    text: `SELECT page.* FROM unnest($${projectParameter}::bigint[]) AS selected (project_id)
             CROSS JOIN LATERAL (SELECT ${each.columns}, ${each.sortKey} FROM ${each.from} ${where} ORDER BY ${each.order} LIMIT ${limitParameter}) AS page
            ORDER BY page.sort_at DESC, page.sort_id DESC LIMIT ${limitParameter}`,
    values: each.conditions.values,
  };
}

export function operationExportQuery(filters: OperationFilters): Query {
  const conditions = operationConditions(filters);
  return {
    text: `SELECT ${operationColumns} FROM operations o JOIN payments p ON p.id = o.payment_ref ${conditions.where()} ORDER BY o.created_at, o.id`,
    values: conditions.values,
  };
}

/** Minor units as a decimal in the currency's exponent ("1050" USD -> "10.50"); unknown currencies keep minor units. */
export function decimalAmount(amountMinor: string, currency: string): string {
  const rule = paypalCurrencies.get(currency.trim());
  if (!rule || amountMinor === '' || amountMinor.startsWith('-')) return amountMinor;
  return formatDecimal(BigInt(amountMinor), rule.exponent);
}

export function paymentView(row: PaymentRow) {
  const currency = row.currency.trim();
  return {
    project_id: Number(row.project_id),
    payment_id: row.payment_id,
    type: row.type,
    method: row.method,
    status: row.status,
    currency,
    amount: decimalAmount(row.amount_minor, currency),
    amount_minor: row.amount_minor,
    captured_minor: row.captured_minor,
    refunded_minor: row.refunded_minor,
    chargeback_minor: row.chargeback_minor,
    customer_id: row.customer_id,
    account_number: row.account_number,
    description: row.description,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

export function operationView(row: OperationRow) {
  return {
    id: Number(row.operation_id),
    project_id: Number(row.project_id),
    payment_id: row.payment_id,
    payment_type: row.payment_type,
    method: row.method,
    type: row.type,
    status: row.status,
    code: row.code,
    message: row.message,
    sum_initial: { amount_minor: row.amount_minor, currency: row.currency, amount: decimalAmount(row.amount_minor, row.currency) },
    sum_converted: {
      amount_minor: row.converted_amount_minor,
      currency: row.converted_currency,
      amount: decimalAmount(row.converted_amount_minor, row.converted_currency),
    },
    provider_payment_id: row.provider_payment_id,
    request_id: row.request_id,
    created_at: row.created_at,
    completed_at: row.completed_at,
  };
}

/** The CSV columns of each report kind, in order, and how a row fills them. */
export const csvLayouts = {
  payments: {
    columns: [
      'project_id', 'payment_id', 'type', 'method', 'status', 'currency', 'amount', 'amount_minor', 'captured_minor', 'refunded_minor',
      'chargeback_minor', 'customer_id', 'account_number', 'description', 'created_at', 'updated_at',
    ],
    record: (row: PaymentRow) => {
      const view = paymentView(row);
      return [
        view.project_id, view.payment_id, view.type, view.method, view.status, view.currency, view.amount, view.amount_minor,
        view.captured_minor, view.refunded_minor, view.chargeback_minor, view.customer_id ?? '', view.account_number ?? '',
        view.description, view.created_at, view.updated_at,
      ];
    },
  },
  operations: {
    columns: [
      'operation_id', 'project_id', 'payment_id', 'payment_type', 'method', 'type', 'status', 'code', 'message', 'currency', 'amount',
      'amount_minor', 'converted_currency', 'converted_amount_minor', 'provider_payment_id', 'created_at', 'completed_at',
    ],
    record: (row: OperationRow) => [
      row.operation_id, row.project_id, row.payment_id, row.payment_type, row.method, row.type, row.status, row.code, row.message,
      row.currency, decimalAmount(row.amount_minor, row.currency), row.amount_minor, row.converted_currency, row.converted_amount_minor,
      row.provider_payment_id, row.created_at, row.completed_at ?? '',
    ],
  },
} as const;

export type ReportKind = keyof typeof csvLayouts;
export const reportKinds = Object.keys(csvLayouts) as ReportKind[];
