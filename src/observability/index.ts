import { AsyncResource } from 'node:async_hooks';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { PlatformContext } from '../processing/context.ts';
import { instrumentJobQueue, type QueueState } from './jobs.ts';
import { createMetrics, type PlatformMetrics } from './metrics.ts';
import { readinessProbe, type Readiness } from './readiness.ts';
import { requestIdHeader, runWithWorkContext } from './request-context.ts';

export { logContextMixin, requestIdFor } from './request-context.ts';
export { registerApiDocumentation } from './openapi.ts';

/**
 * What an operator watches on a node:
 *
 * - `GET /metrics`: Prometheus text (see `metrics.ts` for every name);
 * - `GET /ready`: 200 when the database answers, migrations are applied and
 *   the job queue runs, else 503 with the failing check (`/health` stays the
 *   liveness probe);
 * - one JSON log line per request (`request completed`, with `request_id`,
 *   route, status, duration, and for Gate the answer's `request_id` and error
 *   code), and `request_id` on every line logged while the request, or a job
 *   it caused, runs.
 *
 * Call before the routes are registered, after the job queue started and
 * before its workers do.
 */
export interface Observability {
  metrics: PlatformMetrics;
  queue: QueueState;
  readiness: () => Promise<Readiness>;
}

/** Paths probed every few seconds: logged at debug so they do not drown the log. */
const probePaths = new Set(['/health', '/ready', '/metrics']);

/** What the answer said, for the access log and the error counter (Gate and Data API answers only). */
interface AnswerNote {
  gateRequestId?: string;
  errorCode?: string;
}

const answerBytesMax = 16_384;
const errorCodePattern = /^\{"status":"error","code":"(\d{1,8})"/;
const gateRequestIdPattern = /"request_id":"([A-Za-z0-9-]{1,80})"/;

export async function registerObservability(app: FastifyInstance, context: PlatformContext): Promise<Observability> {
  const { log, pool } = context;
  const metrics = createMetrics(pool, context.config.databasePoolSize, {
    intake: context.intake,
    gatePool: { pool: context.gatePool, maxConnections: context.config.gatePoolSize },
  });
  const queue = instrumentJobQueue(context, metrics, log);
  const readiness = readinessProbe(pool, queue);
  const requestScopes = new WeakMap<FastifyRequest, AsyncResource>();
  const answerNotes = new WeakMap<FastifyRequest, AnswerNote>();

  app.addHook('onRequest', (request, reply, done) => {
    reply.header(requestIdHeader, request.id);
    runWithWorkContext({ requestId: request.id }, () => {
      // Body parsing resumes on socket events outside this scope; preValidation re-enters it.
      requestScopes.set(request, new AsyncResource('gatehouse-request'));
      done();
    });
  });
  app.addHook('preValidation', (request, _reply, done) => {
    const scope = requestScopes.get(request);
    if (scope) scope.runInAsyncScope(done);
    else done();
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    if (typeof payload === 'string' && payload.length <= answerBytesMax && (request.url.startsWith('/v2/') || request.url.startsWith('/data/'))) {
      const errorCode = reply.statusCode >= 400 ? errorCodePattern.exec(payload)?.[1] : undefined;
      const gateRequestId = gateRequestIdPattern.exec(payload)?.[1];
      if (errorCode || gateRequestId) answerNotes.set(request, { errorCode, gateRequestId });
    }
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const labels = { method: request.method, route, status_code: String(reply.statusCode) };
    metrics.httpRequests.inc(labels);
    metrics.httpRequestDuration.observe(labels, reply.elapsedTime / 1000);
    const note = answerNotes.get(request);
    if (note?.errorCode) metrics.gateErrors.inc({ route, code: note.errorCode });
    const fields = {
      method: request.method,
      route,
      // The path only: query strings (Payment Page parameters) carry personal data and signatures.
      path: request.url.split('?', 1)[0],
      status_code: reply.statusCode,
      duration_ms: Math.round(reply.elapsedTime * 10) / 10,
      gate_request_id: note?.gateRequestId,
      error_code: note?.errorCode,
    };
    runWithWorkContext({ requestId: request.id }, () => {
      if (probePaths.has(fields.path)) log.debug(fields, 'request completed');
      else log.info(fields, 'request completed');
    });
    done();
  });

  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType).header('cache-control', 'no-store');
    return metrics.registry.metrics();
  });
  app.get('/ready', async (_request, reply) => {
    const result = await readiness();
    reply.status(result.ready ? 200 : 503).header('cache-control', 'no-store');
    return { status: result.ready ? 'ready' : 'not ready', checks: result.checks };
  });

  return { metrics, queue, readiness };
}
