import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { activeSecretsOf } from '../accounts/data-api-keys.ts';
import { findMerchantProject, projectIdsOfMerchant } from '../accounts/merchants.ts';
import { findUser, type User } from '../accounts/users.ts';
import { GateError } from '../domain/errors.ts';
import { operationStatuses, operationTypes } from '../domain/statuses.ts';
import { balanceView, balancesOf } from '../ledger/balances.ts';
import type { PlatformContext } from '../processing/context.ts';
import { operationPageQuery, operationView, paymentColumns, paymentView, type OperationFilters, type OperationRow, type PaymentRow } from '../reports/queries.ts';
import { documentationOnlySerializer } from '../observability/openapi-schemas.ts';
import { sign, verifyCallback, type SecretValue } from '../signature/index.ts';
import {
  BalancesResponse,
  ChargebacksResponse,
  OperationsResponse,
  PaymentOperationsResponse,
  RatesResponse,
  dataApiSchemaDocumentation,
  type DataApiRouteDocumentation,
} from './documentation.ts';

/**
 * The Data API: `POST /data/v1/...`, JSON in and out, for programs acting for
 * a Dashboard user.
 *
 * Authentication: the body carries `user_id` (the Dashboard user) and
 * `timestamp` (Unix seconds, within 5 minutes of the server's clock) at the
 * top level, and `signature` at the top level: the Gate algorithm
 * (base64 HMAC-SHA512 over the flattened, sorted body without `signature`)
 * with one of the user's active Data API keys, created in the Dashboard
 * (`POST /dashboard/api/data-api-keys`). The user sees exactly what they see
 * in the Dashboard: their merchant's projects; any other project id is 404.
 *
 * The test-clock routes under /data/v1/test-clock are separate (signed with
 * a project's secret key) and unchanged.
 */
export const timestampSkewSecondsMax = 300;

/** The URL of every user-signed Data API route: the OpenAPI test checks that each one is documented. */
export const dataApiRouteTable: string[] = [];
export const pageLimitMax = 1000;

const integerId = Type.Integer({ minimum: 1, maximum: 9_007_199_254_740_991 });
const Authentication = {
  user_id: Type.Integer({ minimum: 1, maximum: 9_007_199_254_740_991, description: 'The Dashboard user the request acts for.' }),
  timestamp: Type.Integer({ minimum: 0, maximum: 100_000_000_000, description: "Unix seconds; within 5 minutes of the server's clock." }),
  signature: Type.Optional(Type.String({ maxLength: 1024, description: "Gate's algorithm over the body without `signature`, with one of the user's Data API keys." })),
};
const iso8601 = (description: string) => Type.String({ minLength: 10, maxLength: 40, pattern: '^\\d{4}-\\d{2}-\\d{2}', description });
const projectSelector = Type.Optional(
  Type.Union([integerId, Type.Array(integerId, { minItems: 1, maxItems: 100 })], { description: "A project id or a list of them, each the user's merchant's; default all of them." }),
);
const ListFilters = {
  project_id: projectSelector,
  interval_from: Type.Optional(iso8601('From this UTC date or time (ISO 8601).')),
  interval_to: Type.Optional(iso8601('Before this UTC date or time (ISO 8601).')),
  status: Type.Optional(Type.Array(Type.Union(operationStatuses.map((status) => Type.Literal(status))), { maxItems: 10 })),
  method: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 32 }), { maxItems: 10 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: pageLimitMax, default: 100, description: 'Page size.' })),
  cursor: Type.Optional(Type.String({ maxLength: 64, description: '`next_cursor` of the previous page.' })),
};

const OperationsRequest = Type.Object({
  ...Authentication,
  ...ListFilters,
  type: Type.Optional(Type.Array(Type.Union(operationTypes.map((type) => Type.Literal(type))), { maxItems: 10 })),
});
const PaymentOperationsRequest = Type.Object({ ...Authentication, project_id: integerId, payment_id: Type.String({ minLength: 1, maxLength: 255 }) });
const ChargebacksRequest = Type.Object({ ...Authentication, ...ListFilters });
const BalancesRequest = Type.Object({ ...Authentication, project_id: projectSelector });
const RatesRequest = Type.Object({ ...Authentication, base: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$' })) });

/** A signed Data API request body (what a client sends). */
export function signDataApiRequest<Body extends Record<string, unknown>>(body: Body, secretKey: SecretValue): Body & { signature: string } {
  const { signature: _ignored, ...unsigned } = body;
  return { ...unsigned, signature: sign(unsigned, secretKey) } as Body & { signature: string };
}

function cursorOf(value: string | undefined): bigint | undefined {
  if (value === undefined || value === '') return undefined;
  const match = /^o:([1-9][0-9]{0,18})$/.exec(Buffer.from(value, 'base64url').toString('utf8'));
  if (!match) throw new GateError('invalidFieldFormat', 'cursor is not one this API gave');
  return BigInt(match[1]);
}
const nextCursor = (operationId: string) => Buffer.from(`o:${operationId}`, 'utf8').toString('base64url');

function timeOf(value: string | undefined, name: string): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(date.getTime())) throw new GateError('invalidFieldFormat', `${name} must be an ISO 8601 date or time`);
  return date;
}

export async function dataApiRoutes(app: FastifyInstance, options: { context: PlatformContext }): Promise<void> {
  const { context } = options;

  /** Who is asking: signature, then user and key, then the clock. */
  async function authenticate(body: { user_id: number; timestamp: number; signature?: string }): Promise<User & { merchantId: bigint }> {
    if (typeof body.signature !== 'string' || body.signature === '') throw new GateError('emptySignature');
    const user = await findUser(context.pool, BigInt(body.user_id));
    const secrets = user && !user.disabled && user.merchantId !== null ? await activeSecretsOf(context.pool, user.id) : [];
    if (!user || secrets.length === 0 || user.merchantId === null) throw new GateError('dataApiUserUnknown');
    if (!verifyCallback(body, secrets)) throw new GateError('invalidSignature');
    const skewSeconds = Math.abs(context.now().getTime() / 1000 - body.timestamp);
    if (skewSeconds > timestampSkewSecondsMax) throw new GateError('requestTimestampInvalid', `server time is ${Math.floor(context.now().getTime() / 1000)}`);
    return user as User & { merchantId: bigint };
  }

  /** The projects a request covers: the ones named (each the user's merchant's, else 404), or all of them. */
  async function projectsOf(user: User & { merchantId: bigint }, selector: number | number[] | undefined): Promise<bigint[]> {
    const own = await projectIdsOfMerchant(context.pool, user.merchantId);
    if (selector === undefined) return own;
    const wanted = (Array.isArray(selector) ? selector : [selector]).map((id) => BigInt(id));
    for (const id of wanted) if (!own.includes(id)) throw new GateError('dashboardNotFound', `project ${id}`);
    return wanted;
  }

  async function operationsPage(filters: OperationFilters, limit: number, cursor: string | undefined) {
    const query = operationPageQuery(filters, limit + 1, cursorOf(cursor));
    const { rows } = await context.pool.query<OperationRow>(query.text, query.values);
    const shown = rows.slice(0, limit);
    return { operations: shown.map(operationView), next_cursor: rows.length > limit ? nextCursor(shown[shown.length - 1].operation_id) : null };
  }

  const route = <Schema extends TSchema>(
    path: string,
    schema: Schema,
    documentation: DataApiRouteDocumentation,
    handle: (body: Static<Schema>, user: User & { merchantId: bigint }) => Promise<unknown>,
  ) => {
    const url = `/data/v1/${path}`;
    if (!dataApiRouteTable.includes(url)) dataApiRouteTable.push(url);
    const options = { schema: { body: schema, ...dataApiSchemaDocumentation(documentation) }, serializerCompiler: documentationOnlySerializer };
    app.post<{ Body: Static<Schema> }>(url, options, async (request) => {
      const body = request.body as Static<Schema> & { user_id: number; timestamp: number; signature?: string };
      const user = await authenticate(body);
      return handle(body, user);
    });
  };

  const operationsDocumentation = {
    operationId: 'data_operations_get',
    summary: 'Operations',
    description: 'Operations of the projects, newest first, with filters and keyset paging (`next_cursor`).',
    response: OperationsResponse,
    errors: 'dataApi',
  } as const;
  route('operations/get', OperationsRequest, operationsDocumentation, async (body, user) => {
    const filters: OperationFilters = {
      projectIds: await projectsOf(user, body.project_id),
      from: timeOf(body.interval_from, 'interval_from'),
      to: timeOf(body.interval_to, 'interval_to'),
      statuses: body.status,
      types: body.type,
      methods: body.method,
    };
    return operationsPage(filters, body.limit ?? 100, body.cursor);
  });

  const paymentDocumentation = {
    operationId: 'data_operations_payment',
    summary: "A payment's operations",
    description: 'The payment and all its operations, oldest first.',
    response: PaymentOperationsResponse,
    errors: 'dataApiPayment',
  } as const;
  route('operations/payment', PaymentOperationsRequest, paymentDocumentation, async (body, user) => {
    const project = await findMerchantProject(context.pool, user.merchantId, BigInt(body.project_id), context.now());
    if (!project) throw new GateError('dashboardNotFound', `project ${body.project_id}`);
    const { rows } = await context.pool.query<PaymentRow>(`SELECT ${paymentColumns} FROM payments p WHERE p.project_id = $1 AND p.payment_id = $2`, [
      String(project.id),
      body.payment_id,
    ]);
    if (!rows[0]) throw new GateError('paymentNotFound', body.payment_id);
    const page = await operationsPage({ projectIds: [project.id], paymentId: body.payment_id }, pageLimitMax, undefined);
    return { payment: paymentView(rows[0]), operations: page.operations.reverse() };
  });

  const chargebacksDocumentation = {
    operationId: 'data_chargebacks_get',
    summary: 'Chargebacks',
    description: 'Chargeback operations, newest first, with the filters and paging of `operations/get`.',
    response: ChargebacksResponse,
    errors: 'dataApi',
  } as const;
  route('chargebacks/get', ChargebacksRequest, chargebacksDocumentation, async (body, user) => {
    const filters: OperationFilters = {
      projectIds: await projectsOf(user, body.project_id),
      from: timeOf(body.interval_from, 'interval_from'),
      to: timeOf(body.interval_to, 'interval_to'),
      statuses: body.status,
      types: ['chargeback'],
      methods: body.method,
    };
    const page = await operationsPage(filters, body.limit ?? 100, body.cursor);
    return { chargebacks: page.operations, next_cursor: page.next_cursor };
  });

  const balancesDocumentation = {
    operationId: 'data_balances_get',
    summary: 'Balances',
    description: 'Per project and currency, from the double-entry ledger; minor units as strings.',
    response: BalancesResponse,
    errors: 'dataApi',
  } as const;
  route('balances/get', BalancesRequest, balancesDocumentation, async (body, user) => {
    const balances = await balancesOf(context.pool, await projectsOf(user, body.project_id));
    return { balances: balances.map(balanceView) };
  });

  const ratesDocumentation = {
    operationId: 'data_rates_get',
    summary: 'FX rates',
    description: 'The FX table the platform converts with, optionally for one `base` currency.',
    response: RatesResponse,
    errors: 'dataApi',
  } as const;
  route('rates/get', RatesRequest, ratesDocumentation, async (body) => {
    const { rows } = await context.pool.query(
      'SELECT base, quote, rate::text AS rate, updated_at FROM fx_rates WHERE ($1::text IS NULL OR base = $1) ORDER BY base, quote',
      [body.base ?? null],
    );
    return { rates: rows.map((row) => ({ base: row.base.trim(), quote: row.quote.trim(), rate: row.rate, updated_at: row.updated_at.toISOString() })) };
  });
}
