import type { Logger } from 'pino';
import type { JobQueue } from '../jobs/queue.ts';
import type { PlatformContext } from '../processing/context.ts';
import type { PlatformMetrics } from './metrics.ts';
import { currentWorkContext, runWithWorkContext } from './request-context.ts';

/**
 * Job instrumentation through the queue's hooks, without changing job code:
 *
 * - `beforeSend` adds the current request id to the job's data (`requestId`),
 *   so a job and every job it enqueues in turn (a callback retry) log with the
 *   id of the Gate request that caused them;
 * - `aroundJob` runs each job inside that context, times it, counts failures
 *   (the queue retries them) and logs one line per failure;
 * - callback delivery attempts are counted from the delivery's own report.
 */
export interface QueueState {
  /** False before the queue started and once it stopped (the node is shutting down). */
  readonly started: boolean;
  /** Workers registered on this node. */
  readonly workers: number;
}

export function instrumentJobQueue(context: PlatformContext, metrics: PlatformMetrics, log: Logger): QueueState {
  const queue: JobQueue = context.queue;
  queue.setHooks({
    beforeSend(_name, data) {
      const requestId = currentWorkContext()?.requestId;
      return requestId && !('requestId' in data) ? { ...data, requestId } : data;
    },
    aroundJob(name, job, run) {
      const carried = job.data as { requestId?: unknown } | null;
      const requestId = typeof carried?.requestId === 'string' ? carried.requestId : undefined;
      return runWithWorkContext({ requestId, job: { queue: name, id: job.id } }, async () => {
        const startedAt = Date.now();
        const stopTimer = metrics.jobDuration.startTimer({ queue: name });
        try {
          await run();
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
      });
    },
  });
  context.onCallbackAttempt = (attempt) => {
    const result = attempt.httpStatus === 200 ? 'delivered' : attempt.httpStatus === null ? 'failed' : 'rejected';
    metrics.callbackAttempts.inc({ result });
    metrics.callbackAttemptDuration.observe({ result }, attempt.latencyMs / 1000);
  };
  return {
    get started() {
      return queue.started;
    },
    get workers() {
      return queue.workerCount;
    },
  };
}
