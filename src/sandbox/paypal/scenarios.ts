/**
 * Deterministic test scenarios, like a processor's test cards: the last two
 * digits of an amount, as PayPal prints it for its currency ("10.01" -> "01",
 * JPY "1001" -> "01", "10.1" is "10.10" -> "10"), choose what happens. Pure:
 * no HTTP, no SQL. The README's scenario table lists the same rows; a test
 * keeps the two in step.
 */
import { formatAmount } from './money.ts';

export const scenarios = {
  '01': 'instrument_declined',
  '02': 'capture_pending',
  '03': 'slow_response',
  '04': 'refund_declined',
  '05': 'payout_receiver_unregistered',
  '06': 'authorization_capture_declined',
  '07': 'authorization_void_declined',
  '08': 'duplicate_webhooks',
  '09': 'first_create_unavailable',
} as const;

export type Scenario = (typeof scenarios)[keyof typeof scenarios] | 'success';

export function scenarioDigits(amountMinor: bigint, currency: string): string {
  const digits = formatAmount(amountMinor, currency).replace('.', '');
  return digits.padStart(2, '0').slice(-2);
}

export function scenarioFor(amountMinor: bigint, currency: string): Scenario {
  const digits = scenarioDigits(amountMinor, currency);
  return digits in scenarios ? scenarios[digits as keyof typeof scenarios] : 'success';
}

/** How many copies of every webhook about a resource governed by this amount are sent. */
export function webhookCopiesFor(amountMinor: bigint, currency: string): 1 | 2 {
  return scenarioFor(amountMinor, currency) === 'duplicate_webhooks' ? 2 : 1;
}

/**
 * Payer-email scenario (chosen on the approval page): a payer whose email
 * contains `+denied` gets a capture that stays PENDING and is then DECLINED
 * (PAYMENT.CAPTURE.DENIED) instead of completing.
 */
export function payerCaptureIsDenied(payerEmail: string | undefined): boolean {
  return payerEmail !== undefined && payerEmail.toLowerCase().includes('+denied');
}

export type PayoutItemOutcome =
  | { status: 'SUCCESS' }
  | { status: 'UNCLAIMED' }
  | { status: 'FAILED'; errorName: 'RECEIVER_UNREGISTERED'; errorMessage: string };

/**
 * A payout item fails as RECEIVER_UNREGISTERED when its amount ends in 05 or
 * its receiver contains `unknown`; it stays UNCLAIMED when the receiver
 * contains `unclaimed`; otherwise it succeeds.
 */
export function payoutItemOutcome(amountMinor: bigint, currency: string, receiver: string): PayoutItemOutcome {
  const receiverLower = receiver.toLowerCase();
  if (scenarioFor(amountMinor, currency) === 'payout_receiver_unregistered' || receiverLower.includes('unknown')) {
    return { status: 'FAILED', errorName: 'RECEIVER_UNREGISTERED', errorMessage: 'Receiver is unregistered' };
  }
  if (receiverLower.includes('unclaimed')) return { status: 'UNCLAIMED' };
  return { status: 'SUCCESS' };
}
