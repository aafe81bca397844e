/**
 * The real platform's callback retry schedule (platform.md): after the first
 * attempt, 6 retries 10 s apart; then the n-th retry waits
 * 70 + 10 * 1.12^(n-4) seconds until that gap reaches 4 hours; then every
 * 4 hours. At most 120 attempts, all within 11 days; then the callback is
 * marked failed (the Dashboard can resend it).
 */
export const callbackAttemptsMax = 120;
export const callbackWindowSeconds = 11 * 24 * 3600;
const gapCapSeconds = 4 * 3600;

/** Seconds to wait before retry number `retry` (1-based: retry 1 is the second attempt). */
export function retryDelaySeconds(retry: number): number {
  if (!Number.isInteger(retry) || retry < 1) throw new RangeError(`retry must be a positive integer, got ${retry}`);
  if (retry <= 6) return 10;
  return Math.min(gapCapSeconds, Math.round(70 + 10 * 1.12 ** (retry - 4)));
}

/**
 * Delay before the next attempt after `attemptsMade` attempts, or null when the
 * schedule is exhausted (attempt cap reached or the 11-day window passed).
 */
export function nextAttemptDelaySeconds(attemptsMade: number, secondsSinceFirstAttempt: number): number | null {
  if (attemptsMade >= callbackAttemptsMax) return null;
  const delay = retryDelaySeconds(attemptsMade);
  if (secondsSinceFirstAttempt + delay > callbackWindowSeconds) return null;
  return delay;
}

/** The whole schedule as offsets from the first attempt, for documentation and tests. */
export function fullSchedule(): number[] {
  const offsets = [0];
  for (let attempts = 1; ; attempts += 1) {
    const delay = nextAttemptDelaySeconds(attempts, offsets[offsets.length - 1]);
    if (delay === null) return offsets;
    offsets.push(offsets[offsets.length - 1] + delay);
  }
}
