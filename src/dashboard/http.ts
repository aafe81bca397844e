import type { TObject } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { writeAudit, type AuditActor } from '../accounts/audit.ts';
import { findMerchantProject, projectIdsOfMerchant } from '../accounts/merchants.ts';
import { csrfTokenMatches, endSession, resumeSession, type Session } from '../accounts/sessions.ts';
import { findUser, type Role, type User } from '../accounts/users.ts';
import { GateError, type ErrorName } from '../domain/errors.ts';
import type { PlatformContext } from '../processing/context.ts';
import { withTransaction } from '../store/db.ts';
import type { Project } from '../store/projects.ts';
import { dashboardRouteDocumentation, type DashboardTag } from './documentation.ts';

/**
 * The Dashboard API's plumbing: every route is declared with the roles that
 * may call it, and one preHandler enforces, in this order, a live session
 * (cookie), the CSRF token on state-changing methods, and the role. Handlers
 * get the signed-in user and resolve project ids only through
 * `projectOf`/`visibleProjectIds`, which answer 404 for another merchant's
 * ids, so isolation is one code path.
 */
export const apiPrefix = '/dashboard/api';
export const sessionCookieName = 'gatehouse_session';
/** The header that carries the session's CSRF token on state-changing requests. */
export const csrfHeaderName = 'x-csrf-token';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
/** 'public': no session (sign-in). 'any': every signed-in user. Otherwise the roles allowed. */
export type Access = 'public' | 'any' | readonly Role[];

export interface Signed {
  session: Session;
  user: User;
}

export interface Call<Body = unknown, Query = Record<string, string | undefined>, Params = Record<string, string>> {
  request: FastifyRequest;
  reply: FastifyReply;
  body: Body;
  query: Query;
  params: Params;
  /** The platform clock (injectable in tests). */
  now: Date;
}

export interface SignedCall<Body = unknown, Query = Record<string, string | undefined>, Params = Record<string, string>> extends Call<Body, Query, Params> {
  session: Session;
  user: User;
}

/**
 * One Dashboard API route. `summary` and `tags` are required so that every
 * route documents itself in the OpenAPI document (`/docs`); the other
 * documentation fields are optional.
 */
export interface RouteDefinition {
  method: HttpMethod;
  /** Relative to /dashboard/api. */
  url: string;
  access: Access;
  /** One line for the API reference: what the route does. */
  summary: string;
  /** The reference's sections the route appears in. */
  tags: readonly DashboardTag[];
  /** More for the reference, when the summary is not enough. */
  description?: string;
  schema?: { body?: object; querystring?: object };
  /**
   * Query parameters, for the reference only: handlers parse the query
   * themselves (a repeated parameter reads as a comma list), so Fastify does
   * not validate against this.
   */
  documentedQuery?: TObject;
  /** Registry errors the handler itself answers, beyond the ones every route shares (documentation). */
  errors?: readonly ErrorName[];
  /** What a success answers (documentation; default JSON). */
  answerMediaType?: 'application/json' | 'text/csv';
  bodyLimit?: number;
  /** Media types the body may have (default JSON only). */
  bodyTypes?: readonly string[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  handle: (call: any) => Promise<unknown>;
}

export interface RouteTableEntry {
  method: HttpMethod;
  /** The full URL, /dashboard/api/... */
  url: string;
  access: Access;
  summary: string;
  tags: readonly DashboardTag[];
}

/**
 * Every route the Dashboard API serves: the merchant-isolation test walks
 * this list, and the OpenAPI test checks that each one is documented.
 */
export const dashboardRouteTable: RouteTableEntry[] = [];

/** The methods that change state: they need the CSRF token. */
export const unsafeMethods: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function registerRoutes(app: FastifyInstance, context: PlatformContext, routes: readonly RouteDefinition[]): void {
  for (const route of routes) {
    const url = `${apiPrefix}${route.url}`;
    if (!dashboardRouteTable.some((entry) => entry.method === route.method && entry.url === url)) {
      dashboardRouteTable.push({ method: route.method, url, access: route.access, summary: route.summary, tags: route.tags });
    }
    const documentation = dashboardRouteDocumentation(route);
    app.route({
      method: route.method,
      url,
      schema: route.schema,
      bodyLimit: route.bodyLimit,
      // The OpenAPI document reads the route's documentation from here; what Fastify validates stays `schema`.
      config: { swaggerTransform: ({ url: documentedUrl }) => ({ schema: documentation, url: documentedUrl }) },
      // Who is asking is settled before the body is even parsed: a caller without a session,
      // a CSRF token or the role learns nothing from validation errors.
      onRequest: async (request) => {
        // Only the declared media types: a cross-site HTML form (text/plain, urlencoded,
        // multipart) can never reach a handler, not even sign-in (login CSRF).
        const mediaType = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
        if (mediaType !== '' && !(route.bodyTypes ?? ['application/json']).includes(mediaType)) throw new GateError('unsupportedMediaType');
        if (route.access === 'public') return;
        const signed = await authenticate(context, request, context.now());
        if (unsafeMethods.has(route.method) && !csrfTokenMatches(signed.session, request.headers[csrfHeaderName])) {
          throw new GateError('csrfTokenInvalid');
        }
        if (route.access !== 'any' && !route.access.includes(signed.user.role)) throw new GateError('roleForbidsAction');
        signedRequests.set(request, signed);
      },
      handler: async (request, reply) => {
        const base: Call = {
          request,
          reply,
          body: request.body,
          query: flatQuery(request.query),
          params: (request.params ?? {}) as Record<string, string>,
          now: context.now(),
        };
        if (route.access === 'public') return route.handle(base);
        const signed = signedRequests.get(request);
        if (!signed) throw new GateError('signInRequired');
        return route.handle({ ...base, ...signed });
      },
    });
  }
}

/** Query parameters as single strings: a repeated parameter (?status=a&status=b) reads as a list (a,b). */
function flatQuery(query: unknown): Record<string, string | undefined> {
  const flat: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    flat[key] = Array.isArray(value) ? value.map(String).join(',') : typeof value === 'string' ? value : undefined;
  }
  return flat;
}

/** The session and user `onRequest` established for a request. */
const signedRequests = new WeakMap<FastifyRequest, Signed>();

async function authenticate(context: PlatformContext, request: FastifyRequest, now: Date): Promise<Signed> {
  const token = request.cookies?.[sessionCookieName];
  if (!token) throw new GateError('signInRequired');
  const session = await resumeSession(context.pool, token, now);
  if (!session) throw new GateError('signInRequired');
  const user = await findUser(context.pool, session.userId);
  if (!user || user.disabled) {
    await endSession(context.pool, token);
    throw new GateError('signInRequired');
  }
  return { session, user };
}

export function sessionCookieOptions(context: PlatformContext) {
  return {
    path: '/dashboard',
    httpOnly: true,
    sameSite: 'strict' as const,
    secure: context.config.publicUrl.startsWith('https://'),
  };
}

export function actorOf(user: User | undefined): AuditActor {
  return user ? { userId: user.id, email: user.email, merchantId: user.merchantId } : { userId: null, email: null, merchantId: null };
}

/** The merchant a merchant user belongs to (the role check guarantees one). */
export function merchantIdOf(user: User): bigint {
  if (user.merchantId === null) throw new GateError('roleForbidsAction');
  return user.merchantId;
}

/** A numeric id from a path or query parameter; anything else is a 404 like an unknown id. */
export function idParameter(value: string | undefined): bigint {
  if (value === undefined || !/^[1-9][0-9]{0,17}$/.test(value)) throw new GateError('dashboardNotFound');
  return BigInt(value);
}

/** The signed-in merchant user's project `projectId`, or 404 (unknown and other merchants' ids alike). */
export async function projectOf(context: PlatformContext, call: SignedCall, projectId: string | undefined): Promise<Project> {
  const project = await findMerchantProject(context.pool, merchantIdOf(call.user), idParameter(projectId), call.now);
  if (!project) throw new GateError('dashboardNotFound', `project ${projectId}`);
  return project;
}

/**
 * The project ids a list may cover: the given comma-separated `project_id`
 * filter (each must be the merchant's, else 404), or all of them, narrowed
 * by `mode` (test/production).
 */
export async function visibleProjectIds(context: PlatformContext, call: SignedCall, projectFilter: string | undefined, mode?: string): Promise<bigint[]> {
  const merchantId = merchantIdOf(call.user);
  const own = await projectIdsOfMerchant(context.pool, merchantId);
  let ids = own;
  if (projectFilter) {
    ids = projectFilter.split(',').map((value) => idParameter(value.trim()));
    for (const id of ids) if (!own.includes(id)) throw new GateError('dashboardNotFound', `project ${id}`);
  }
  if (mode !== undefined) {
    if (mode !== 'test' && mode !== 'production') throw new GateError('invalidFieldFormat', 'mode must be test or production');
    const { rows } = await context.pool.query<{ id: string }>('SELECT id::text AS id FROM projects WHERE id = ANY($1::bigint[]) AND mode = $2', [
      ids.map(String),
      mode,
    ]);
    ids = rows.map((row) => BigInt(row.id));
  }
  return ids;
}

/**
 * Runs an admin action in one transaction that also writes its audit entry,
 * so a successful action and its entry commit together or not at all (a
 * crash in between can no longer lose the entry). `work` must do its writes
 * through `tx`; code that opens its own transaction (`withTransaction`)
 * joins `tx` when given it. A failed action rolls back and is audited
 * afterwards, on its own (the refusal is worth recording too).
 *
 * @example
 * await audited(context, call, { action: 'fx_rate.set', targetType: 'fx_rate', targetId: 'USD/EUR' }, (tx) =>
 *   tx.query('UPDATE fx_rates SET rate = $1 WHERE base = $2 AND quote = $3', ['0.92', 'USD', 'EUR']),
 * );
 */
export async function audited<T>(
  context: PlatformContext,
  call: SignedCall,
  entry: { action: string; targetType?: string; targetId?: string; details?: Record<string, unknown>; merchantId?: bigint | null },
  work: (tx: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const base = { actor: actorOf(call.user), ipAddress: call.request.ip, ...entry };
  try {
    return await withTransaction(context.pool, async (tx) => {
      const result = await work(tx);
      await writeAudit(tx, { ...base, outcome: 'success' });
      return result;
    });
  } catch (error) {
    const code = error instanceof GateError ? error.entry.code : '1000';
    await writeAudit(context.pool, { ...base, outcome: 'failure', details: { ...entry.details, code } }).catch(() => undefined);
    throw error;
  }
}

// ---------------------------------------------------------------- query parsing

export function parseTime(value: string | undefined, name: string): Date | undefined {
  if (value === undefined || value === '') return undefined;
  const date = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T00:00:00Z`) : new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime())) throw new GateError('invalidFieldFormat', `${name} must be an ISO 8601 date or time`);
  return date;
}

export function parseList(value: string | undefined, allowed?: readonly string[], name = 'filter'): string[] | undefined {
  if (value === undefined || value === '') return undefined;
  const items = value.split(',').map((item) => item.trim()).filter(Boolean);
  if (items.length > 20) throw new GateError('invalidFieldFormat', `${name}: at most 20 values`);
  if (allowed) for (const item of items) if (!allowed.includes(item)) throw new GateError('invalidFieldFormat', `${name}: unknown value ${item}`);
  return items;
}

export function parseLimit(value: string | undefined, fallback = 50, maximum = 500): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d{1,4}$/.test(value) || Number(value) < 1 || Number(value) > maximum) throw new GateError('invalidFieldFormat', `limit must be 1-${maximum}`);
  return Number(value);
}

export function encodeCursor(id: string): string {
  return Buffer.from(`c:${id}`, 'utf8').toString('base64url');
}

export function decodeCursor(value: string | undefined): bigint | undefined {
  if (value === undefined || value === '') return undefined;
  const decoded = Buffer.from(value, 'base64url').toString('utf8');
  const match = /^c:([1-9][0-9]{0,18})$/.exec(decoded);
  if (!match) throw new GateError('invalidFieldFormat', 'cursor is not one this API gave');
  return BigInt(match[1]);
}
