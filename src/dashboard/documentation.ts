import { Type, type TObject } from '@sinclair/typebox';
import type { FastifySchema } from 'fastify';
import { roles } from '../accounts/users.ts';
import type { ErrorName } from '../domain/errors.ts';
import { errorResponses } from '../observability/openapi-schemas.ts';
import { csrfHeaderName, sessionCookieName, unsafeMethods, type Access, type RouteDefinition } from './http.ts';

/**
 * How the Dashboard API appears in the OpenAPI document (`/docs`,
 * `openapi.json`). Each route states its own summary and tags in its
 * `RouteDefinition`; this file turns a definition into the operation that
 * `@fastify/swagger` prints. It is documentation only: registerRoutes hands
 * it to the swagger plugin through the route's `swaggerTransform`, so the
 * schemas Fastify validates and serializes with stay exactly the
 * definition's own.
 */

/** The document's sections for the Dashboard API, in the order Swagger UI lists them. */
export const dashboardTags = [
  { name: 'Dashboard: session', description: 'Sign-in (sets the `gatehouse_session` cookie and answers the CSRF token), who am I, sign-out, my password.' },
  { name: 'Dashboard: projects', description: "The merchant's projects: settings and secret key rotation (the new key is shown once)." },
  { name: 'Dashboard: payments', description: 'Payments with filters, search and keyset paging; a payment with its operations, callbacks and ledger entries; capture, cancel, refund and callback resend with Gate\'s own rules.' },
  { name: 'Dashboard: payouts', description: 'Single payouts and CSV mass payouts (validate, start, cancel, progress, results).' },
  { name: 'Dashboard: payment links', description: 'Payment links the customer pays at `/pay/<id>`.' },
  { name: 'Dashboard: balances and charts', description: 'Balances from the double-entry ledger and the daily series behind the charts.' },
  { name: 'Dashboard: reports', description: 'Streamed CSV exports, stored reports and report schedules.' },
  { name: 'Dashboard: users and keys', description: "The merchant's users, my Data API keys, the merchant's audit log and PCI DSS status." },
  { name: 'Dashboard: notifications', description: "The merchant's notifications (PCI DSS reminders before a document expires, on expiry, when a required one is missing), read state per user." },
  { name: 'Dashboard: operator', description: 'The operator console (role `operator` only): merchants, projects, PayPal onboarding, fees, PCI DSS documents, FX rates, the whole audit log, the ledger check.' },
] as const;
export type DashboardTag = (typeof dashboardTags)[number]['name'];

// ---------------------------------------------------------------- query parameters

/**
 * Query parameters as the list routes read them (`visibleProjectIds`,
 * `parseTime`, `parseList`, `parseLimit`, `decodeCursor`), for
 * `RouteDefinition.documentedQuery`.
 */
export const queryParameters = {
  project_id: Type.Optional(Type.String({ description: "Project ids, comma-separated; each must be one of my merchant's (else `404` / `7006`). Default: all of them.", examples: ['1001,1002'] })),
  mode: Type.Optional(Type.Union([Type.Literal('test'), Type.Literal('production')], { description: 'Only test or only production projects.' })),
  from: Type.Optional(Type.String({ description: 'From this UTC date or time (ISO 8601).', examples: ['2026-01-01'] })),
  to: Type.Optional(Type.String({ description: 'Before this UTC date or time (ISO 8601).', examples: ['2026-02-01T00:00:00Z'] })),
  method: Type.Optional(Type.String({ description: 'Payment methods, comma-separated (or the parameter repeated).', examples: ['paypal'] })),
  q: Type.Optional(Type.String({ description: 'A payment id, customer id or account number, matched exactly.' })),
  cursor: Type.Optional(Type.String({ description: '`next_cursor` of the previous page.' })),
};

/** A filter that takes several of `values`, comma-separated or as a repeated parameter. */
export function listParameter(values: readonly string[]) {
  return Type.Optional(Type.String({ description: `Comma-separated (or the parameter repeated), any of: ${values.map((value) => `\`${value}\``).join(', ')}.` }));
}

/** A page size: 1 to `maximum`, `fallback` when absent. */
export function limitParameter(fallback: number, maximum: number) {
  return Type.Optional(Type.Integer({ minimum: 1, maximum, default: fallback, description: `Page size (1-${maximum}).` }));
}

// ---------------------------------------------------------------- operations

/** Names of the security schemes below, as operations refer to them. */
const sessionScheme = 'dashboardSession';
const csrfScheme = 'dashboardCsrf';

/** The document's `components.securitySchemes` for the Dashboard API. */
export function dashboardSecuritySchemes() {
  return {
    [sessionScheme]: {
      type: 'apiKey' as const,
      in: 'cookie',
      name: sessionCookieName,
      description: 'Set by `POST /dashboard/api/session` (HttpOnly, SameSite=Strict, Path=/dashboard). Ends after 15 minutes without a request and 12 hours after sign-in (`401` / `7001`).',
    },
    [csrfScheme]: {
      type: 'apiKey' as const,
      in: 'header',
      name: csrfHeaderName,
      description: "The session's `csrf_token` (answered by sign-in and `GET /dashboard/api/session`). Required on every POST, PUT, PATCH and DELETE except sign-in (`403` / `7004`).",
    },
  };
}

/** The roles that may call a route: 'any' is every role; a public route needs none. */
export function rolesOf(access: Access): readonly string[] {
  if (access === 'public') return [];
  return access === 'any' ? roles : access;
}

/** Session cookie on every signed route, and the CSRF header too where the method changes state. */
function securityOf(route: RouteDefinition): { [scheme: string]: string[] }[] {
  if (route.access === 'public') return [];
  return [unsafeMethods.has(route.method) ? { [sessionScheme]: [], [csrfScheme]: [] } : { [sessionScheme]: [] }];
}

function descriptionOf(route: RouteDefinition): string {
  const who = route.access === 'public' ? 'Access: public (no session).' : `Roles: ${rolesOf(route.access).join(', ')}.`;
  return [route.description, who].filter(Boolean).join('\n\n');
}

/** `GET /projects/:projectId` -> `dashboard_get_projects_projectId`: unique because method and URL are. */
function operationIdOf(route: RouteDefinition): string {
  const words = route.url.split(/[^A-Za-z0-9]+/).filter(Boolean);
  return ['dashboard', route.method.toLowerCase(), ...words].join('_');
}

function bodyOf(route: RouteDefinition): Pick<FastifySchema, 'body' | 'consumes'> {
  if (route.schema?.body) return { body: route.schema.body };
  if (route.bodyTypes) return { body: { type: 'string', description: `The file (${route.bodyTypes.join(' or ')}).` }, consumes: route.bodyTypes };
  return {};
}

/**
 * The registry errors a route can answer: the ones its plumbing gives
 * (media type, rate limit, session, CSRF, role, validation, ids that are not
 * the merchant's) and the ones its handler names in `errors`.
 */
function errorNamesOf(route: RouteDefinition, query: TObject | undefined): ErrorName[] {
  const names: ErrorName[] = ['unsupportedMediaType', 'tooManyRequests', 'internalError'];
  if (route.access !== 'public') names.push('signInRequired');
  if (route.access !== 'public' && unsafeMethods.has(route.method)) names.push('csrfTokenInvalid');
  if (route.access !== 'public' && route.access !== 'any') names.push('roleForbidsAction');
  if (route.schema?.body) names.push('invalidJson', 'requiredFieldMissing', 'invalidFieldFormat');
  if (route.schema?.body || route.bodyTypes) names.push('requestTooLarge');
  if (query) names.push('invalidFieldFormat');
  if (route.url.includes(':') || (query !== undefined && 'project_id' in query.properties)) names.push('dashboardNotFound');
  return [...names, ...(route.errors ?? [])];
}

function successOf(route: RouteDefinition): object {
  if (route.answerMediaType === 'text/csv') {
    return { description: 'A CSV file (`content-disposition: attachment`), streamed.', content: { 'text/csv': { schema: { type: 'string' } } } };
  }
  return { type: 'object', 'x-response-description': 'Success: a JSON object (its fields are in docs/dashboard-api.md).' };
}

/**
 * The OpenAPI operation of one Dashboard route, as `@fastify/swagger` reads
 * a route schema: tags, summary, roles (`x-roles` and a description line),
 * security, body and query, the success answer and the error answers.
 */
export function dashboardRouteDocumentation(route: RouteDefinition): FastifySchema & Record<string, unknown> {
  const query = (route.schema?.querystring ?? route.documentedQuery) as TObject | undefined;
  return {
    tags: route.tags,
    summary: route.summary,
    description: descriptionOf(route),
    operationId: operationIdOf(route),
    security: securityOf(route),
    ...(route.access === 'public' ? {} : { 'x-roles': rolesOf(route.access) }),
    ...bodyOf(route),
    ...(query ? { querystring: query } : {}),
    response: { 200: successOf(route), ...errorResponses(errorNamesOf(route, query)) },
  };
}
