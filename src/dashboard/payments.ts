import { Type, type Static } from '@sinclair/typebox';
import { GateError } from '../domain/errors.ts';
import { paymentStatuses, type FollowUpOperation } from '../domain/statuses.ts';
import { checkMethodEnabled } from '../gate/method-rules.ts';
import { acceptFollowUp } from '../gate/operations.ts';
import type { PlatformContext } from '../processing/context.ts';
import { decimalAmount, paymentColumns, paymentPageQuery, paymentView, type PaymentRow } from '../reports/queries.ts';
import { afterCommit } from '../store/db.ts';
import { findPayment, listOperations } from '../store/payments.ts';
import type { Project } from '../store/projects.ts';
import { limitParameter, listParameter, queryParameters } from './documentation.ts';
import {
  audited,
  decodeCursor,
  encodeCursor,
  idParameter,
  parseLimit,
  parseList,
  parseTime,
  projectOf,
  visibleProjectIds,
  type RouteDefinition,
  type SignedCall,
} from './http.ts';

export const paymentTypes = ['purchase', 'payout', 'recurring'] as const;

const RefundBody = Type.Object(
  {
    amount: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000_000_000_000 })),
    currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$' })),
    description: Type.Optional(Type.String({ maxLength: 255 })),
  },
  { additionalProperties: false },
);
const EmptyBody = Type.Object({}, { additionalProperties: false });

const tags = ['Dashboard: payments'] as const;

/** The filters of the payments list; the payments CSV export takes the same ones but paging. */
export const PaymentFilterQuery = Type.Object({
  project_id: queryParameters.project_id,
  mode: queryParameters.mode,
  from: queryParameters.from,
  to: queryParameters.to,
  status: listParameter(paymentStatuses),
  type: listParameter(paymentTypes),
  method: queryParameters.method,
  q: queryParameters.q,
});

const followUpDocumentation = {
  capture: { summary: 'Capture a hold', description: "Through Gate's `acceptFollowUp`: the same rules, row lock and codes as `POST /v2/payment/wallet/{method}/capture`." },
  cancel: { summary: 'Release a hold', description: "Through Gate's `acceptFollowUp`: the same rules, row lock and codes as `POST /v2/payment/wallet/{method}/cancel`." },
  refund: { summary: 'Refund', description: "Full (no `amount`) or partial refund through Gate's `acceptFollowUp`: the same rules, row lock and codes as `POST /v2/payment/wallet/{method}/refund`." },
} as const satisfies Record<FollowUpOperation, { summary: string; description: string }>;

export function paymentRoutes(context: PlatformContext): RouteDefinition[] {
  /** Capture, cancel or refund through acceptFollowUp: exactly Gate's rules, locks and amounts. */
  function followUp(operation: FollowUpOperation): RouteDefinition {
    return {
      method: 'POST',
      url: `/projects/:projectId/payments/:paymentId/${operation}`,
      access: ['merchant_admin'],
      ...followUpDocumentation[operation],
      tags,
      errors: [
        'paymentNotFound',
        'statusForbidsAction',
        'unsupportedEndpoint',
        'methodNotEnabled',
        ...(operation === 'refund' ? (['currencyMismatch', 'refundExceedsAmount', 'refundLimitExceeded'] as const) : []),
      ],
      schema: { body: operation === 'refund' ? RefundBody : EmptyBody },
      async handle(call: SignedCall<Static<typeof RefundBody>>) {
        const project = await projectOf(context, call, call.params.projectId);
        const paymentId = call.params.paymentId;
        const payment = await findPayment(context.pool, project.id, paymentId);
        if (!payment) throw new GateError('paymentNotFound', paymentId);
        const refund = operation === 'refund' ? { description: call.body.description ?? '', amount: call.body.amount, currency: call.body.currency } : undefined;
        return audited(
          context,
          call,
          { action: `payment.${operation}`, targetType: 'payment', targetId: `${project.id}/${paymentId}`, details: refund ?? {} },
          async (tx) => {
            checkMethodEnabled(context, project, payment.method);
            return acceptFollowUp(context, project, payment.method, operation, paymentId, refund, tx);
          },
        );
      },
    };
  }

  return [
    {
      method: 'GET',
      url: '/payments',
      access: ['merchant_admin', 'merchant_viewer'],
      summary: 'List payments',
      description: 'Newest first, keyset paging (`next_cursor`).',
      tags,
      documentedQuery: Type.Object({ ...PaymentFilterQuery.properties, limit: limitParameter(50, 500), cursor: queryParameters.cursor }),
      async handle(call: SignedCall) {
        const query = call.query;
        const projectIds = await visibleProjectIds(context, call, query.project_id, query.mode);
        const limit = parseLimit(query.limit);
        const filters = {
          projectIds,
          from: parseTime(query.from, 'from'),
          to: parseTime(query.to, 'to'),
          statuses: parseList(query.status, paymentStatuses, 'status'),
          types: parseList(query.type, paymentTypes, 'type'),
          methods: parseList(query.method, undefined, 'method'),
          search: query.q?.trim() || undefined,
        };
        const page = paymentPageQuery(filters, limit + 1, decodeCursor(query.cursor));
        const { rows } = await context.pool.query<PaymentRow>(page.text, page.values);
        const more = rows.length > limit;
        const shown = rows.slice(0, limit);
        return { payments: shown.map(paymentView), next_cursor: more ? encodeCursor(shown[shown.length - 1].ref) : null };
      },
    },
    {
      method: 'GET',
      url: '/projects/:projectId/payments/:paymentId',
      access: ['merchant_admin', 'merchant_viewer'],
      summary: 'A payment with its operations, callbacks and ledger entries',
      description: 'Operations oldest first; each callback with every delivery attempt (status code, latency, response excerpt).',
      tags,
      errors: ['paymentNotFound'],
      async handle(call: SignedCall) {
        const project = await projectOf(context, call, call.params.projectId);
        const payment = await findPayment(context.pool, project.id, call.params.paymentId);
        if (!payment) throw new GateError('paymentNotFound', call.params.paymentId);
        const { rows } = await context.pool.query<PaymentRow>(`SELECT ${paymentColumns} FROM payments p WHERE p.id = $1`, [String(payment.ref)]);
        const row = rows[0];
        const operations = await listOperations(context.pool, payment.ref);
        const callbacks = await context.pool.query(
          `SELECT id::int AS id, operation_id::text AS operation_id, kind, url, status, attempts, next_attempt_at, created_at, delivered_at
             FROM callbacks WHERE payment_ref = $1 ORDER BY id`,
          [String(payment.ref)],
        );
        const attempts = await context.pool.query(
          `SELECT callback_id::int AS callback_id, attempt, attempted_at, http_status, latency_ms, response_excerpt, error
             FROM callback_attempts WHERE callback_id = ANY($1::bigint[]) ORDER BY callback_id, attempt`,
          [callbacks.rows.map((callback) => String(callback.id))],
        );
        const ledger = await context.pool.query(
          `SELECT t.operation_id::text AS operation_id, t.operation_type, e.account, e.currency, e.side, e.amount_minor::text AS amount_minor, t.booked_at
             FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id WHERE t.payment_ref = $1 ORDER BY t.id, e.id`,
          [String(payment.ref)],
        );
        return {
          payment: {
            ...(row ? paymentView(row) : {}),
            provider_order_id: payment.providerOrderId,
            provider_capture_id: payment.providerCaptureId,
            recurring_id: payment.recurringId === null ? null : Number(payment.recurringId),
            payer: payment.payer,
            customer: payment.customer,
            available_for_refund_minor: String(payment.capturedMinor - payment.refundedMinor - payment.refundReservedMinor - payment.chargebackMinor),
          },
          operations: operations.map((operation) => ({
            id: Number(operation.id),
            type: operation.type,
            status: operation.status,
            code: operation.code,
            message: operation.message,
            amount_minor: String(operation.amountMinor),
            amount: decimalAmount(String(operation.amountMinor), operation.currency),
            currency: operation.currency,
            provider_payment_id: operation.providerPaymentId,
            request_id: operation.requestId,
            created_at: operation.createdAt.toISOString(),
            completed_at: operation.completedAt?.toISOString() ?? null,
          })),
          callbacks: callbacks.rows.map((callback) => ({
            ...callback,
            next_attempt_at: callback.next_attempt_at?.toISOString() ?? null,
            created_at: callback.created_at.toISOString(),
            delivered_at: callback.delivered_at?.toISOString() ?? null,
            delivery_attempts: attempts.rows
              .filter((attempt) => attempt.callback_id === callback.id)
              .map(({ callback_id: _callbackId, attempted_at: attemptedAt, ...attempt }) => ({ ...attempt, attempted_at: attemptedAt.toISOString() })),
          })),
          ledger_entries: ledger.rows.map((entry) => ({ ...entry, currency: entry.currency.trim(), booked_at: entry.booked_at.toISOString() })),
        };
      },
    },
    followUp('capture'),
    followUp('cancel'),
    followUp('refund'),
    {
      method: 'POST',
      url: '/projects/:projectId/callbacks/:callbackId/resend',
      access: ['merchant_admin'],
      summary: 'Resend a callback',
      description: 'One attempt now (also for a failed callback), then the usual retry schedule while it fails.',
      tags,
      schema: { body: EmptyBody },
      async handle(call: SignedCall) {
        const project = await projectOf(context, call, call.params.projectId);
        const callbackId = idParameter(call.params.callbackId);
        return audited(context, call, { action: 'callback.resend', targetType: 'callback', targetId: String(callbackId) }, async (tx) => {
          // A resend starts a new delivery: one attempt now, then the usual schedule while it fails.
          const { rows } = await tx.query<{ url: string }>('SELECT url FROM callbacks WHERE id = $1 AND project_id = $2 FOR UPDATE', [
            String(callbackId),
            String(project.id),
          ]);
          if (!rows[0]) throw new GateError('dashboardNotFound', `callback ${callbackId}`);
          if (rows[0].url === '') throw new GateError('invalidFieldFormat', 'the callback has no URL to send to');
          await tx.query(`UPDATE callbacks SET status = 'pending', next_attempt_at = now() WHERE id = $1`, [String(callbackId)]);
          afterCommit(tx, () => context.callbacks.wake());
          return { callback_id: Number(callbackId), status: 'pending' };
        });
      },
    },
  ];
}

