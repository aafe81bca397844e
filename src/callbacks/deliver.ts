import { queueNames } from '../jobs/queue.ts';
import { allowsPrivateUrls, type CallbackAttemptReport, type PlatformContext } from '../processing/context.ts';
import { anyAddressFetcher, PrivateAddressError, publicOnlyFetcher, urlRefusal } from '../security/urls.ts';
import { withTransaction } from '../store/db.ts';
import { nextAttemptDelaySeconds } from './schedule.ts';

/**
 * One delivery attempt of a stored callback. Only HTTP 200 counts as
 * delivered. Every attempt is recorded (status, latency, response excerpt);
 * the next attempt is scheduled by the real platform's schedule in the same
 * transaction that records this one, so a crash cannot lose the retry.
 */
interface CallbackRow {
  id: bigint;
  url: string;
  body: string;
  status: string;
  attempts: number;
  created_at: Date;
  first_attempt_at: Date | null;
  project_mode: 'test' | 'production';
}

const responseExcerptMax = 512;

export async function deliverCallback(context: PlatformContext, callbackId: bigint): Promise<void> {
  const { rows } = await context.pool.query<CallbackRow>(
    `SELECT c.id, c.url, c.body, c.status, c.attempts, c.created_at, p.mode AS project_mode,
       (SELECT min(attempted_at) FROM callback_attempts a WHERE a.callback_id = c.id) AS first_attempt_at
     FROM callbacks c JOIN projects p ON p.id = c.project_id WHERE c.id = $1`,
    [String(callbackId)],
  );
  const callback = rows[0];
  if (!callback || callback.status !== 'pending') return;
  const allowPrivate = allowsPrivateUrls(context, { mode: callback.project_mode });
  const attempt = await post(callback.url, callback.body, context.config.callbackTimeoutMs, allowPrivate);
  const report = await recordAttempt(context, callback, attempt);
  if (report) {
    context.log.info({ callback_id: String(callbackId), attempt: report.attempt, http_status: report.httpStatus, latency_ms: report.latencyMs, error: report.error ?? undefined, callback_status: report.status }, 'callback delivery attempt');
    context.onCallbackAttempt?.(report);
  }
}

/** Records the attempt and decides what follows: delivered, failed for good, or the next attempt on the schedule. */
async function recordAttempt(context: PlatformContext, callback: CallbackRow, attempt: AttemptResult): Promise<CallbackAttemptReport | undefined> {
  const reportOf = (attemptNumber: number, status: CallbackAttemptReport['status']): CallbackAttemptReport => ({
    callbackId: callback.id,
    attempt: attemptNumber,
    httpStatus: attempt.httpStatus,
    latencyMs: attempt.latencyMs,
    error: attempt.error,
    status,
  });
  // A URL into our own network will not become acceptable by waiting.
  const finalStatus = attempt.httpStatus === 200 ? 'delivered' : attempt.refused ? 'failed' : undefined;
  if (finalStatus) {
    const attemptNumber = await recordFinalAttempt(context, callback.id, finalStatus, attempt);
    return attemptNumber === undefined ? undefined : reportOf(attemptNumber, finalStatus);
  }
  return withTransaction(context.pool, async (tx): Promise<CallbackAttemptReport | undefined> => {
    // Lock and re-check: another node may have delivered it meanwhile.
    const locked = await tx.query<{ status: string; attempts: number }>('SELECT status, attempts FROM callbacks WHERE id = $1 FOR UPDATE', [String(callback.id)]);
    if (locked.rows[0]?.status !== 'pending') return undefined;
    const attemptNumber = locked.rows[0].attempts + 1;
    await tx.query(
      `INSERT INTO callback_attempts (callback_id, attempt, http_status, latency_ms, response_excerpt, error) VALUES ($1, $2, $3, $4, $5, $6)`,
      [String(callback.id), attemptNumber, attempt.httpStatus, attempt.latencyMs, attempt.responseExcerpt, attempt.error],
    );
    const firstAttemptAt = callback.first_attempt_at ?? context.now();
    const elapsedSeconds = (context.now().getTime() - firstAttemptAt.getTime()) / 1000;
    const delaySeconds = nextAttemptDelaySeconds(attemptNumber, elapsedSeconds);
    if (delaySeconds === null) {
      await tx.query(`UPDATE callbacks SET status = 'failed', attempts = $2, next_attempt_at = NULL WHERE id = $1`, [String(callback.id), attemptNumber]);
      return reportOf(attemptNumber, 'failed');
    }
    const scaledSeconds = delaySeconds * context.config.callbackScheduleScale;
    await tx.query(`UPDATE callbacks SET attempts = $2, next_attempt_at = now() + make_interval(secs => $3) WHERE id = $1`, [String(callback.id), attemptNumber, scaledSeconds]);
    await context.queue.send(queueNames.callbackDeliver, { callbackId: String(callback.id) }, { db: tx, startAfterSeconds: scaledSeconds });
    return reportOf(attemptNumber, 'pending');
  });
}

/**
 * Delivered or failed for good: status and attempt in ONE statement (the
 * UPDATE's row lock and its `status = 'pending'` re-check stand in for the
 * transaction's lock; another node's concurrent delivery makes it match
 * nothing). The common case, so it saves four round trips per callback.
 * Returns the attempt number, or undefined when the callback was no longer pending.
 */
async function recordFinalAttempt(context: PlatformContext, callbackId: bigint, status: 'delivered' | 'failed', attempt: AttemptResult): Promise<number | undefined> {
  const { rows } = await context.pool.query<{ attempt: number }>(
    `WITH updated AS (
       UPDATE callbacks
          SET status = $2, attempts = attempts + 1, next_attempt_at = NULL,
              delivered_at = CASE WHEN $2 = 'delivered' THEN now() END
        WHERE id = $1 AND status = 'pending'
        RETURNING id, attempts)
     INSERT INTO callback_attempts (callback_id, attempt, http_status, latency_ms, response_excerpt, error)
     SELECT id, attempts, $3, $4, $5, $6 FROM updated
     RETURNING attempt`,
    [String(callbackId), status, attempt.httpStatus, attempt.latencyMs, attempt.responseExcerpt, attempt.error],
  );
  return rows[0]?.attempt;
}

interface AttemptResult {
  /** The URL points into our own network (SSRF guard). */
  refused?: boolean;
  httpStatus: number | null;
  latencyMs: number;
  responseExcerpt: string | null;
  error: string | null;
}

async function post(url: string, body: string, timeoutMs: number, allowPrivate: boolean): Promise<AttemptResult> {
  const startedAt = performance.now();
  const refusal = urlRefusal(url, allowPrivate);
  if (refusal) return { refused: true, httpStatus: null, latencyMs: 0, responseExcerpt: null, error: `refused: callback URL ${refusal}` };
  try {
    const response = await (allowPrivate ? anyAddressFetcher : publicOnlyFetcher)(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'Gatehouse-Callbacks/1' },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    return { httpStatus: response.status, latencyMs: Math.round(performance.now() - startedAt), responseExcerpt: text.slice(0, responseExcerptMax), error: null };
  } catch (error) {
    const refusal = [error, (error as { cause?: unknown } | undefined)?.cause].find((candidate) => candidate instanceof PrivateAddressError);
    if (refusal) {
      return { refused: true, httpStatus: null, latencyMs: Math.round(performance.now() - startedAt), responseExcerpt: null, error: `refused: ${refusal.message}` };
    }
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { httpStatus: null, latencyMs: Math.round(performance.now() - startedAt), responseExcerpt: null, error: message.slice(0, responseExcerptMax) };
  }
}
