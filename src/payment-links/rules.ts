import { paymentOutcome } from '../payment-page/flow.ts';
import type { LinkAttempt, PaymentLink } from './store.ts';

/**
 * What a payment link allows, decided from the link and its attempts alone
 * (no I/O): whether it is paid, expired, or already being paid.
 */
export type LinkStatus = 'active' | 'paid' | 'expired';

/**
 * An attempt whose payment is not created yet counts as "being paid" for this
 * long: the gap between numbering the attempt and the payment's insert. An
 * older one was lost with a crash and no longer blocks a single-use link.
 */
export const attemptStartGraceMs = 60_000;

export function paidAttempts(attempts: readonly LinkAttempt[]): LinkAttempt[] {
  return attempts.filter((attempt) => attempt.paymentStatus !== null && paymentOutcome(attempt.paymentStatus) === 'success');
}

export function linkStatus(link: PaymentLink, attempts: readonly LinkAttempt[], now: Date): LinkStatus {
  if (link.singleUse && paidAttempts(attempts).length > 0) return 'paid';
  if (link.expiresAt && link.expiresAt.getTime() <= now.getTime()) return 'expired';
  return 'active';
}

/**
 * The attempt a single-use link is busy with: its payment is still open, or
 * it was numbered moments ago and its payment is being created. Reopening
 * the link shows that attempt instead of starting a second payment.
 */
export function attemptInProgress(attempts: readonly LinkAttempt[], now: Date): LinkAttempt | undefined {
  return attempts.find((attempt) =>
    attempt.paymentStatus === null
      ? now.getTime() - attempt.sessionCreatedAt.getTime() < attemptStartGraceMs
      : paymentOutcome(attempt.paymentStatus) === 'open',
  );
}
