import { Type, type TSchema } from '@sinclair/typebox';
import { operationStatuses, operationTypes, paymentStatuses } from '../domain/statuses.ts';
import { ledgerAccounts } from '../ledger/rules.ts';
import { documentedResponses, type DocumentedRoute } from '../observability/openapi-schemas.ts';

/**
 * The Data API's part of the OpenAPI document: what each route answers, as
 * documentation only (the routes serialize with `JSON.stringify`, see
 * `documentationOnlySerializer`); `test/openapi.test.ts` checks real answers
 * against these schemas.
 */

export const dataApiTag = 'Data API';

/** How every Data API request is signed: the tag's description and each route's first paragraph. */
export const dataApiSigning =
  'Signed for a Dashboard user: the body carries `user_id` (the user), `timestamp` (Unix seconds, within 5 minutes of the server clock, ' +
  "which bounds replays) and `signature`: Gate's algorithm, `base64(HMAC-SHA512(key, string_to_sign))` over the body without `signature`, " +
  "flattened and sorted as for Gate, with one of the user's active Data API keys (`POST /dashboard/api/data-api-keys`). " +
  "The user sees what they see in the Dashboard: their merchant's projects; any other project id answers `404` / `7006`.";

/** The fields of a decimal-and-minor-units amount, as the Dashboard and Data APIs show money. */
const Sum = Type.Object({
  amount_minor: Type.String({ description: 'Minor units, as a string' }),
  currency: Type.String(),
  amount: Type.String({ description: "Decimal in the currency's exponent, e.g. `10.50`" }),
});
const literals = (values: readonly string[]) => Type.Union(values.map((value) => Type.Literal(value)));
const isoTime = Type.String({ description: 'UTC, ISO 8601' });

/** One operation, as `operationView` shows it. */
export const DataOperation = Type.Object({
  id: Type.Integer(),
  project_id: Type.Integer(),
  payment_id: Type.String(),
  payment_type: literals(['purchase', 'payout', 'recurring']),
  method: Type.String(),
  type: literals(operationTypes),
  status: literals(operationStatuses),
  code: Type.String(),
  message: Type.String(),
  sum_initial: Sum,
  sum_converted: Sum,
  provider_payment_id: Type.String({ description: 'The PayPal order, capture, refund or payout id; empty before PayPal answered.' }),
  request_id: Type.String(),
  created_at: isoTime,
  completed_at: Type.Union([isoTime, Type.Null()]),
});

/** One payment, as `paymentView` shows it. */
export const DataPayment = Type.Object({
  project_id: Type.Integer(),
  payment_id: Type.String(),
  type: literals(['purchase', 'payout', 'recurring']),
  method: Type.String(),
  status: literals(paymentStatuses),
  currency: Type.String(),
  amount: Type.String({ description: "Decimal in the currency's exponent" }),
  amount_minor: Type.String(),
  captured_minor: Type.String(),
  refunded_minor: Type.String(),
  chargeback_minor: Type.String(),
  customer_id: Type.Union([Type.String(), Type.Null()]),
  account_number: Type.Union([Type.String(), Type.Null()]),
  description: Type.String(),
  created_at: isoTime,
  updated_at: isoTime,
});

const nextCursor = Type.Union([Type.String(), Type.Null()], { description: 'Give it as `cursor` for the next page; null on the last page.' });

export const OperationsResponse = Type.Object({ operations: Type.Array(DataOperation, { description: 'Newest first' }), next_cursor: nextCursor });
export const PaymentOperationsResponse = Type.Object({ payment: DataPayment, operations: Type.Array(DataOperation, { description: 'Oldest first' }) });
export const ChargebacksResponse = Type.Object({ chargebacks: Type.Array(DataOperation, { description: 'Newest first' }), next_cursor: nextCursor });
export const BalancesResponse = Type.Object({
  balances: Type.Array(
    Type.Object({
      project_id: Type.Integer(),
      currency: Type.String(),
      balance_minor: Type.String({ description: "The merchant balance account's position, minor units" }),
      accounts: Type.Object(Object.fromEntries(ledgerAccounts.map((account) => [account, Type.String()])), { description: 'Every ledger account position (credits minus debits), minor units' }),
    }),
  ),
});
export const RatesResponse = Type.Object({
  rates: Type.Array(Type.Object({ base: Type.String(), quote: Type.String(), rate: Type.String({ description: 'Decimal' }), updated_at: isoTime })),
});

export interface DataApiRouteDocumentation {
  operationId: string;
  summary: string;
  description: string;
  response: TSchema;
  errors: DocumentedRoute;
}

/** The route schema's documentation keys, for `@fastify/swagger`. */
export function dataApiSchemaDocumentation(documentation: DataApiRouteDocumentation) {
  return {
    tags: [dataApiTag],
    operationId: documentation.operationId,
    summary: documentation.summary,
    description: `${documentation.description}\n\n${dataApiSigning}`,
    response: documentedResponses(documentation.response, documentation.summary, documentation.errors),
  };
}
