import type PgBoss from 'pg-boss';
import type { Logger } from 'pino';
import type pg from 'pg';
import { queueNames, type JobQueue, type QueueName, type SendOptions } from '../jobs/queue.ts';
import type { PlatformMetrics } from './metrics.ts';
import { currentWorkContext, runWithWorkContext } from './request-context.ts';

/**
 * Job instrumentation without changing the job code: the node's `JobQueue`
 * is wrapped in place, before any worker starts.
 *
 * - `send` adds the current request id to the job's data (`requestId`), so a
 *   job and every job it enqueues in turn (a callback retry) log with the id
 *   of the Gate request that caused them;
 * - `work` runs each job inside that context, times it, counts failures
 *   (the queue retries them) and logs one line per failure;
 * - a callback delivery job also logs its attempt from the delivery log
 *   (two indexed reads) and counts it by result.
 *
 * It also tracks whether the queue is started, for `/ready`.
 */
export interface QueueState {
  /** False once the queue stopped (the node is shutting down). */
  started: boolean;
  /** Workers registered on this node. */
  workers: number;
}

interface JobData {
  requestId?: unknown;
  callbackId?: unknown;
}

export function instrumentJobQueue(queue: JobQueue, metrics: PlatformMetrics, log: Logger, pool: pg.Pool): QueueState {
  // The platform starts the queue before the HTTP side is built, so it is running when this is called.
  const state: QueueState = { started: true, workers: 0 };
  queue.boss.on('stopped', () => {
    state.started = false;
  });

  const send = queue.send.bind(queue);
  queue.send = (name: QueueName, data: object, options?: SendOptions) => {
    const requestId = currentWorkContext()?.requestId;
    const carried = requestId && !('requestId' in data) ? { ...data, requestId } : data;
    return send(name, carried, options);
  };

  const start = queue.start.bind(queue);
  queue.start = async () => {
    await start();
    state.started = true;
  };
  const stop = queue.stop.bind(queue);
  queue.stop = async () => {
    state.started = false;
    await stop();
  };

  const work = queue.work.bind(queue);
  queue.work = async <T>(name: QueueName, parallel: number, handle: (data: T, job: PgBoss.Job<T>) => Promise<void>) => {
    state.workers += parallel;
    return work<T>(name, parallel, (data, job) => {
      const carried = data as JobData;
      const requestId = typeof carried.requestId === 'string' ? carried.requestId : undefined;
      return runWithWorkContext({ requestId, job: { queue: name, id: job.id } }, () => runJob(name, data, job, handle));
    });
  };

  async function runJob<T>(name: QueueName, data: T, job: PgBoss.Job<T>, handle: (data: T, job: PgBoss.Job<T>) => Promise<void>): Promise<void> {
    const callbackId = name === queueNames.callbackDeliver ? callbackIdOf(data as JobData) : undefined;
    const attemptsBefore = callbackId === undefined ? undefined : await callbackAttempts(callbackId);
    const startedAt = Date.now();
    const stopTimer = metrics.jobDuration.startTimer({ queue: name });
    try {
      await handle(data, job);
      metrics.jobsProcessed.inc({ queue: name, outcome: 'completed' });
      log.debug({ duration_ms: Date.now() - startedAt }, 'job completed');
    } catch (error) {
      metrics.jobsProcessed.inc({ queue: name, outcome: 'failed' });
      metrics.jobFailures.inc({ queue: name });
      log.warn({ err: error, duration_ms: Date.now() - startedAt }, 'job failed; the queue retries it');
      throw error;
    } finally {
      stopTimer();
    }
    if (callbackId !== undefined && attemptsBefore !== undefined) await logCallbackAttempt(callbackId, attemptsBefore);
  }

  function callbackIdOf(data: JobData): string | undefined {
    return typeof data.callbackId === 'string' || typeof data.callbackId === 'number' ? String(data.callbackId) : undefined;
  }

  async function callbackAttempts(callbackId: string): Promise<number | undefined> {
    try {
      const { rows } = await pool.query<{ attempts: number }>('SELECT attempts FROM callbacks WHERE id = $1', [callbackId]);
      return rows[0]?.attempts;
    } catch {
      return undefined;
    }
  }

  /** The attempt this job made, from the delivery log (none when the callback was no longer pending). */
  async function logCallbackAttempt(callbackId: string, attemptsBefore: number): Promise<void> {
    try {
      const { rows } = await pool.query<{ attempt: number; http_status: number | null; latency_ms: number; error: string | null; status: string }>(
        `SELECT a.attempt, a.http_status, a.latency_ms, a.error, c.status
         FROM callbacks c JOIN callback_attempts a ON a.callback_id = c.id AND a.attempt > $2
         WHERE c.id = $1 ORDER BY a.attempt DESC LIMIT 1`,
        [callbackId, attemptsBefore],
      );
      const attempt = rows[0];
      if (!attempt) return;
      const result = attempt.http_status === 200 ? 'delivered' : attempt.http_status === null ? 'failed' : 'rejected';
      metrics.callbackAttempts.inc({ result });
      metrics.callbackAttemptDuration.observe({ result }, attempt.latency_ms / 1000);
      log.info(
        {
          callback_id: String(callbackId),
          attempt: attempt.attempt,
          http_status: attempt.http_status,
          latency_ms: attempt.latency_ms,
          error: attempt.error ?? undefined,
          callback_status: attempt.status,
        },
        'callback delivery attempt',
      );
    } catch (error) {
      log.debug({ err: error }, 'could not read the callback delivery log');
    }
  }

  return state;
}
