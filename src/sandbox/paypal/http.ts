/**
 * HTTP plumbing shared by the sandbox's routes: PayPal-Request-Id
 * idempotency, the Prefer header, JSON bodies and errors in PayPal's shape.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SandboxContext } from './context.ts';
import { errorBody, newDebugId, SandboxError } from './errors.ts';
import { findStoredResponse, inTransactionEndingWith, retryingWriteConflicts, storedResponseStatement, type Client, type WriteBatch } from './store.ts';

/** PayPal accepts request ids up to 108 characters. */
const requestIdLengthMax = 108;

export function requestIdOf(request: FastifyRequest): string | undefined {
  const header = request.headers['paypal-request-id'];
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return undefined;
  if (value.length > requestIdLengthMax) throw new SandboxError('INVALID_PARAMETER_SYNTAX', { field: 'PayPal-Request-Id', location: 'header' });
  return value;
}

/** `Prefer: return=representation` asks for the whole resource; PayPal's default is `return=minimal`. */
export function wantsRepresentation(request: FastifyRequest): boolean {
  const header = request.headers.prefer;
  const value = Array.isArray(header) ? header.join(',') : (header ?? '');
  return /return\s*=\s*representation/i.test(value);
}

/**
 * The endpoint part of an idempotency key: method and path below the plugin's
 * prefix, with the ids filled in ("POST /v2/checkout/orders/5O19.../capture").
 */
export function endpointKey(request: FastifyRequest, prefix: string): string {
  const path = request.url.split('?')[0]!;
  return `${request.method} ${path.startsWith(prefix) ? path.slice(prefix.length) : path}`;
}

/** The answer of a state-changing call; failures are thrown as SandboxError instead. */
export interface ActionResult {
  statusCode: number;
  /** Undefined for an empty body (204). */
  body: unknown;
  /** Scenario "03": answer only after this long (the effect is already committed). */
  answerDelayMs?: number;
  /** Scheduled work was written that falls due after this long. */
  workDueInMs?: number;
  /** The effect's writes, not sent yet: they end its transaction with the stored response, in one statement. */
  writes?: WriteBatch;
}

/**
 * Runs a POST with PayPal-Request-Id semantics: the first successful response
 * for (endpoint, request id) is stored in the same transaction as its effect;
 * a repeat gets that response again (same status and body) without acting
 * twice. Failed attempts store nothing, so a retry is evaluated afresh.
 *
 * Optimistic, to spare a statement on every call: the action runs first and
 * its response is stored at the end. A repeat of a request that already
 * succeeded either writes its effect and then finds the key taken (it rolls
 * back) or fails on the first one's effect (ORDER_ALREADY_CAPTURED); either
 * way it answers with the stored response. Concurrent repeats wait on the
 * key (or on the resource's row lock) for the first to commit, or meet a
 * write conflict on the order and run again. An action that only reads
 * without locks (creating or capturing an order) is its reads plus ONE
 * statement: its gathered writes and the stored response, without BEGIN
 * and COMMIT.
 */
export async function runIdempotent(
  context: SandboxContext,
  request: FastifyRequest,
  reply: FastifyReply,
  prefix: string,
  action: (client: Client) => Promise<ActionResult>,
): Promise<FastifyReply> {
  const requestId = requestIdOf(request);
  const endpoint = endpointKey(request, prefix);
  let outcome: { statusCode: number; body: string; replayed: boolean; answerDelayMs?: number; workDueInMs?: number };
  try {
    outcome = await retryingWriteConflicts(() =>
      inTransactionEndingWith(context.pool, async (client) => {
        const result = await action(client);
        const body = result.body === undefined ? '' : JSON.stringify(result.body);
        const response = { statusCode: result.statusCode, body };
        return {
          value: { ...response, replayed: false, answerDelayMs: result.answerDelayMs, workDueInMs: result.workDueInMs },
          writes: result.writes,
          last: requestId === undefined ? undefined : storedResponseStatement(endpoint, requestId, response),
        };
      }),
    );
  } catch (error) {
    const stored = requestId === undefined ? undefined : await findStoredResponse(context.pool, endpoint, requestId);
    if (!stored) throw error;
    outcome = { ...stored, replayed: true };
  }
  if (!outcome.replayed) {
    context.afterCommit.deliverWebhooks();
    if (outcome.workDueInMs !== undefined) context.afterCommit.runDueWorkAfter(outcome.workDueInMs);
    if (outcome.answerDelayMs) await sleep(outcome.answerDelayMs);
  }
  return sendJsonText(reply, outcome.statusCode, outcome.body);
}

export function sendJsonText(reply: FastifyReply, statusCode: number, body: string): FastifyReply {
  reply.code(statusCode);
  if (body === '') return reply.send();
  return reply.type('application/json').send(body);
}

/** The JSON object a handler was given, or a PayPal 400 when it is something else. */
export function jsonObjectBody(request: FastifyRequest, options: { required: boolean }): Record<string, unknown> {
  const body = request.body;
  if (body === undefined || body === null) {
    if (options.required) throw new SandboxError('MALFORMED_REQUEST_JSON', { location: 'body' });
    return {};
  }
  if (typeof body !== 'object' || Array.isArray(body)) throw new SandboxError('MALFORMED_REQUEST_JSON', { location: 'body' });
  return body as Record<string, unknown>;
}

/** An optional string field: absent stays undefined, anything but a string is a 400. */
export function optionalString(record: Record<string, unknown>, key: string, field: string, lengthMax = 2_000): string | undefined {
  const value = record[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length > lengthMax) throw new SandboxError('INVALID_PARAMETER_SYNTAX', { field, location: 'body' });
  return value;
}

export function optionalObject(record: Record<string, unknown>, key: string, field: string): Record<string, unknown> | undefined {
  const value = record[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new SandboxError('INVALID_PARAMETER_SYNTAX', { field, location: 'body' });
  return value as Record<string, unknown>;
}

/**
 * JSON bodies: an empty body is no body (PayPal clients POST `/capture` with a
 * JSON content type and nothing in it); broken JSON is PayPal's 400.
 */
export function installJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new SandboxError('MALFORMED_REQUEST_JSON', { location: 'body' }), undefined);
    }
  });
}

/** Every failure leaves in PayPal's error shape, with PayPal's debug id header. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | SandboxError, request, reply) => {
    if (error instanceof SandboxError) return sendError(reply, error.httpStatus, error.body());
    const statusCode = (error as FastifyError).statusCode;
    if (statusCode !== undefined && statusCode >= 400 && statusCode < 500) {
      return sendError(reply, 400, errorBody('MALFORMED_REQUEST_JSON', { location: 'body' }));
    }
    request.log.error({ err: error }, 'paypal sandbox: unexpected error');
    return sendError(reply, 500, errorBody('INTERNAL_SERVICE_ERROR'));
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 404, errorBody('INVALID_RESOURCE_ID', { field: 'path', value: request.url.split('?')[0], location: 'path' })),
  );
  app.addHook('onSend', async (_request, reply, payload) => {
    if (!reply.hasHeader('paypal-debug-id')) {
      const fromBody = typeof payload === 'string' ? /"debug_id":"([0-9a-f]+)"/.exec(payload)?.[1] : undefined;
      reply.header('paypal-debug-id', fromBody ?? newDebugId());
    }
    return payload;
  });
}

function sendError(reply: FastifyReply, statusCode: number, body: object): FastifyReply {
  return reply.code(statusCode).type('application/json').send(JSON.stringify(body));
}
