import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * The request id follows the work it started: an HTTP request (Fastify's
 * `request.id`, taken from an incoming `x-request-id` when it is sane), the
 * jobs that request enqueued, and the jobs those jobs enqueued (a callback
 * retry keeps the id of the Gate request that caused the callback). Every log
 * line written while the work runs carries it, through the logger's mixin.
 */
export interface WorkContext {
  /** The HTTP request id that started this work. */
  requestId?: string;
  /** Set while a job runs. */
  job?: { queue: string; id: string };
}

const storage = new AsyncLocalStorage<WorkContext>();

/** What an incoming `x-request-id` may look like; anything else is replaced (log injection, unbounded labels). */
const requestIdPattern = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

export const requestIdHeader = 'x-request-id';

/**
 * Fastify's `genReqId`: the caller's `x-request-id` when it is a plain token
 * of at most 128 characters, else a fresh UUID.
 *
 * @example
 * Fastify({ genReqId: requestIdFor })
 */
export function requestIdFor(request: IncomingMessage): string {
  const incoming = request.headers[requestIdHeader];
  const candidate = Array.isArray(incoming) ? incoming[0] : incoming;
  return candidate !== undefined && requestIdPattern.test(candidate) ? candidate : randomUUID();
}

export function currentWorkContext(): WorkContext | undefined {
  return storage.getStore();
}

export function runWithWorkContext<T>(context: WorkContext, work: () => T): T {
  return storage.run(context, work);
}

/**
 * pino's `mixin`: adds `request_id` (and the job, when one runs) to every log
 * line written inside tracked work.
 *
 * @example
 * pino({ mixin: logContextMixin })
 */
export function logContextMixin(): Record<string, unknown> {
  const context = storage.getStore();
  if (!context) return {};
  const fields: Record<string, unknown> = {};
  if (context.requestId) fields.request_id = context.requestId;
  if (context.job) {
    fields.job_queue = context.job.queue;
    fields.job_id = context.job.id;
  }
  return fields;
}
