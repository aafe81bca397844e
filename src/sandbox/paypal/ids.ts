/**
 * Identifiers shaped like PayPal's: 17 upper-case alphanumerics for orders,
 * captures, authorizations and refunds ("5O190127TN364715T"), 13 for payer
 * ids and payout ids, `WH-<17>-<17>` for webhook events.
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';

const upperAlphanumerics = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const lowerAlphanumerics = '0123456789abcdefghijklmnopqrstuvwxyz';
const mixedAlphanumerics = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomString(alphabet: string, length: number): string {
  let text = '';
  for (let index = 0; index < length; index += 1) text += alphabet[randomInt(alphabet.length)];
  return text;
}

/** Maps a digest onto an alphabet: the same input always gives the same id. */
function derivedString(alphabet: string, length: number, input: string): string {
  const digest = createHash('sha256').update(input).digest();
  let text = '';
  for (let index = 0; index < length; index += 1) text += alphabet[digest[index]! % alphabet.length];
  return text;
}

/** Orders, captures, authorizations, refunds and payout transactions. */
export const newResourceId = (): string => randomString(upperAlphanumerics, 17);

/** Payout batch and payout item ids. */
export const newPayoutId = (): string => randomString(upperAlphanumerics, 13);

/** A payer's PayPal account id: stable for an email address, as a real account's is. */
export const payerIdForEmail = (email: string): string => derivedString(upperAlphanumerics, 13, `payer:${email.toLowerCase()}`);

/** The merchant account behind a client id. */
export const merchantIdForClient = (clientId: string): string => derivedString(upperAlphanumerics, 13, `merchant:${clientId}`);

/** The vault customer: the one the merchant named, else one stable for the payer. */
export const vaultCustomerId = (merchantGivenId: string | undefined, payerId: string): string =>
  merchantGivenId ?? derivedString(mixedAlphanumerics, 10, `customer:${payerId}`);

/** Vault v3 payment tokens are short lower-case ids ("8kk8451t"). */
export const newPaymentTokenId = (): string => randomString(lowerAlphanumerics, 8);

export const newWebhookEventId = (): string => `WH-${newResourceId()}-${newResourceId()}`;

export const newDisputeId = (): string => `PP-D-${randomInt(1_000_000_000, 10_000_000_000)}`;

/** Certificate ids look like PayPal's `CERT-360caa42-fca2a594-1d93a270`. */
export const newCertificateId = (): string => `CERT-${randomBytes(4).toString('hex')}-${randomBytes(4).toString('hex')}-${randomBytes(4).toString('hex')}`;
