import type DataLoader from 'dataloader';
import { allowsPrivateUrls, type CallbackAttemptReport, type PlatformContext } from '../processing/context.ts';
import { anyAddressFetcher, PrivateAddressError, publicOnlyFetcher, urlRefusal } from '../security/urls.ts';
import { withTransaction, type Queryable } from '../store/db.ts';
import { turnBatchLoader } from '../store/turn-batches.ts';
import { nextAttemptDelaySeconds } from './schedule.ts';

/**
 * One delivery attempt of a stored callback. Only HTTP 200 counts as
 * delivered. Every attempt is recorded (status, latency, response excerpt),
 * and the same statement or transaction sets the callback's next attempt by
 * the real platform's schedule, so a crash cannot lose the retry.
 */
export interface DeliverableCallback {
  id: bigint;
  url: string;
  body: string;
  project_mode: 'test' | 'production';
}

const responseExcerptMax = 512;

/** Delivers a pending callback found by id (outside the claim loop: tests, tools). */
export async function deliverCallback(context: PlatformContext, callbackId: bigint): Promise<void> {
  const { rows } = await context.pool.query<DeliverableCallback & { status: string }>(
    `SELECT c.id, c.url, c.body, c.status, p.mode AS project_mode
     FROM callbacks c JOIN projects p ON p.id = c.project_id WHERE c.id = $1`,
    [String(callbackId)],
  );
  if (rows[0]?.status === 'pending') await attemptDelivery(context, rows[0]);
}

/** Posts the callback once and records the attempt (a claimed callback: src/callbacks/dispatcher.ts). */
export async function attemptDelivery(context: PlatformContext, callback: DeliverableCallback): Promise<void> {
  const allowPrivate = allowsPrivateUrls(context, { mode: callback.project_mode });
  const attempt = await post(callback.url, callback.body, context.config.callbackTimeoutMs, allowPrivate);
  const report = await recordAttempt(context, callback, attempt);
  if (report) {
    context.log.info({ callback_id: String(callback.id), attempt: report.attempt, http_status: report.httpStatus, latency_ms: report.latencyMs, error: report.error ?? undefined, callback_status: report.status }, 'callback delivery attempt');
    context.onCallbackAttempt?.(report);
  }
}

/** Records the attempt and decides what follows: delivered, failed for good, or the next attempt on the schedule. */
async function recordAttempt(context: PlatformContext, callback: DeliverableCallback, attempt: AttemptResult): Promise<CallbackAttemptReport | undefined> {
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
    const locked = await tx.query<{ status: string; attempts: number; first_attempt_at: Date | null }>(
      `SELECT status, attempts, (SELECT min(attempted_at) FROM callback_attempts a WHERE a.callback_id = c.id) AS first_attempt_at
       FROM callbacks c WHERE id = $1 FOR UPDATE`,
      [String(callback.id)],
    );
    if (locked.rows[0]?.status !== 'pending') return undefined;
    const attemptNumber = locked.rows[0].attempts + 1;
    await tx.query(
      `INSERT INTO callback_attempts (callback_id, attempt, http_status, latency_ms, response_excerpt, error) VALUES ($1, $2, $3, $4, $5, $6)`,
      [String(callback.id), attemptNumber, attempt.httpStatus, attempt.latencyMs, attempt.responseExcerpt, attempt.error],
    );
    const firstAttemptAt = locked.rows[0].first_attempt_at ?? context.now();
    const elapsedSeconds = (context.now().getTime() - firstAttemptAt.getTime()) / 1000;
    const delaySeconds = nextAttemptDelaySeconds(attemptNumber, elapsedSeconds);
    if (delaySeconds === null) {
      await tx.query(`UPDATE callbacks SET status = 'failed', attempts = $2, next_attempt_at = NULL WHERE id = $1`, [String(callback.id), attemptNumber]);
      return reportOf(attemptNumber, 'failed');
    }
    // The claim loop picks it up again once it is due (it also ends this attempt's claim).
    const scaledSeconds = delaySeconds * context.config.callbackScheduleScale;
    await tx.query(`UPDATE callbacks SET attempts = $2, next_attempt_at = now() + make_interval(secs => $3) WHERE id = $1`, [String(callback.id), attemptNumber, scaledSeconds]);
    return reportOf(attemptNumber, 'pending');
  });
}

/**
 * Delivered or failed for good: status and attempt in ONE statement, shared
 * by every callback whose attempt ended in the same event-loop turn (the
 * common case, so it saves four round trips per callback, and more under
 * load). The UPDATE's row lock and its `status = 'pending'` re-check stand
 * in for the transaction's lock: another node's concurrent delivery makes it
 * match nothing. Returns the attempt number, or undefined when the callback
 * was no longer pending.
 */
function recordFinalAttempt(context: PlatformContext, callbackId: bigint, status: 'delivered' | 'failed', attempt: AttemptResult): Promise<number | undefined> {
  let recorder = finalAttemptRecorders.get(context.pool);
  if (!recorder) {
    const pool = context.pool;
    recorder = turnBatchLoader<FinalAttempt, number | undefined>((attempts) => recordFinalAttempts(pool, attempts));
    finalAttemptRecorders.set(pool, recorder);
  }
  return recorder.load({ callbackId, status, attempt });
}

export interface FinalAttempt {
  callbackId: bigint;
  status: 'delivered' | 'failed';
  attempt: AttemptResult;
}

/** One recorder per pool: the final attempts of one turn share a statement. */
const finalAttemptRecorders = new WeakMap<object, DataLoader<FinalAttempt, number | undefined>>();

/**
 * Records a turn's final attempts: each callback found by its key. Joined to
 * the input alone (estimated at 100 rows), the planner read the callbacks
 * through the partial index of pending ones, every entry of it (thousands
 * during a burst, and the entries of callbacks delivered since its last
 * vacuum), and the cost of that plan grew with the backlog, so PostgreSQL
 * planned the statement afresh on every call (0.74 ms per call in a full
 * bench run, a quarter of it planning). `= ANY` of the ids keeps the read on
 * the primary key; the status is tested with `IS NOT DISTINCT FROM` so that
 * the partial index (`status = 'pending'`) is not a candidate; the test is
 * still re-checked on the row an UPDATE locks, so a callback that stopped
 * being pending meanwhile is left alone.
 */
export const recordFinalAttemptsStatement = `WITH input AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb)
         AS t(ordinal int, id bigint, status text, http_status int, latency_ms int, response_excerpt text, error text)),
     updated AS (
       UPDATE callbacks c
          SET status = input.status, attempts = c.attempts + 1, next_attempt_at = NULL,
              delivered_at = CASE WHEN input.status = 'delivered' THEN now() END
         FROM input
        WHERE c.id = input.id AND c.id = ANY (ARRAY(SELECT input.id FROM input))
          AND c.status IS NOT DISTINCT FROM 'pending'
        RETURNING c.id, c.attempts),
     inserted AS (
       INSERT INTO callback_attempts (callback_id, attempt, http_status, latency_ms, response_excerpt, error)
       SELECT updated.id, updated.attempts, input.http_status, input.latency_ms, input.response_excerpt, input.error
         FROM updated JOIN input ON input.id = updated.id
       RETURNING callback_id, attempt)
     SELECT input.ordinal, inserted.attempt FROM input LEFT JOIN inserted ON inserted.callback_id = input.id`;

/** The batch behind `recordFinalAttempt` (exported for its test): each attempt's number, undefined where the callback was no longer pending. */
export async function recordFinalAttempts(pool: Queryable, attempts: readonly FinalAttempt[]): Promise<(number | undefined)[]> {
  // One callback twice in a turn (a replay racing its own delivery) would make the UPDATE pick one input row: repeats go one by one after.
  const seen = new Set<bigint>();
  const firsts = attempts.filter((attempt) => !seen.has(attempt.callbackId) && seen.add(attempt.callbackId));
  const numbers = new Map<FinalAttempt, number | undefined>();
  await recordDistinctFinalAttempts(pool, firsts, numbers);
  for (const repeat of attempts.filter((attempt) => !numbers.has(attempt))) await recordDistinctFinalAttempts(pool, [repeat], numbers);
  return attempts.map((attempt) => numbers.get(attempt));
}

async function recordDistinctFinalAttempts(pool: Queryable, attempts: readonly FinalAttempt[], numbers: Map<FinalAttempt, number | undefined>): Promise<void> {
  const input = attempts.map(({ callbackId, status, attempt }, ordinal) => ({
    ordinal,
    id: String(callbackId),
    status,
    http_status: attempt.httpStatus,
    latency_ms: attempt.latencyMs,
    response_excerpt: attempt.responseExcerpt,
    error: attempt.error,
  }));
  const { rows } = await pool.query<{ ordinal: number; attempt: number | null }>(recordFinalAttemptsStatement, [JSON.stringify(input)]);
  for (const row of rows) numbers.set(attempts[row.ordinal], row.attempt ?? undefined);
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
