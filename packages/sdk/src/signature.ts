/**
 * Signatures of the ecommpay merchant API as Gatehouse computes them:
 * `base64(HMAC-SHA512(secret, stringToSign(message)))`.
 *
 * - Gate requests carry theirs in `general.signature`;
 * - callbacks and the status answer at the top level (`signature`);
 * - Payment Page URLs as the `signature` query parameter.
 *
 * Signing uses full paths in natural order (as the platform signs); checking
 * accepts the ordering of any official SDK (PHP, Python, Go, Java, npm),
 * which differ only on rare messages (arrays of more than ten items, keys
 * with `:`), comparing in constant time.
 */
import { Buffer } from 'node:buffer';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { collectLeaves, renderLeaves, ORDERINGS, SIGNING_ORDERING } from './string-to-sign.ts';

export { ORDERINGS, SDK_ORDERINGS, SIGNING_ORDERING, stringToSign, type Ordering } from './string-to-sign.ts';

/** One secret key, or the keys valid during a rotation overlap (newest first). */
export type SecretKeys = string | readonly string[];

/** A rotation window holds two keys; more than this is a caller's bug. */
const SECRET_KEYS_MAX = 8;

/**
 * The signature of `message` (whose own signature key must already be absent).
 *
 * @example
 * sign({ payment: { id: '000049', status: 'success' } }, 'secret')
 * // '/3TrhHVz9BHaLfgLyhoxO7dsQNzbzZa/TdO3pxQocXWwgVM6tGlzMLVfpOxFNTnkR9iiFVK/77ZedMcbkCjmng=='
 */
export function sign(message: object, secretKey: string): string {
  const leaves = collectLeaves(message, { integersOnly: true });
  return hmacBase64(checkedKey(secretKey), renderLeaves(leaves, SIGNING_ORDERING));
}

/**
 * True when `signature` was computed over `message` (without its signature)
 * with one of `secretKeys`, under any official SDK's ordering.
 *
 * @example
 * verify({ payment: { id: '000049', status: 'success' } }, receivedSignature, ['new-key', 'old-key'])
 */
export function verify(message: object, signature: string | null | undefined, secretKeys: SecretKeys): boolean {
  const keys = checkedKeys(secretKeys);
  if (typeof signature !== 'string' || signature === '') return false;
  return matchesAny(candidateStrings([message]), signature, keys);
}

/**
 * A copy of a Gate request with `general.signature` computed over the rest.
 *
 * @example
 * signGateRequest({ general: { project_id: 1001, payment_id: 'order-1' }, payment: { amount: 1000, currency: 'USD' } }, secretKey)
 */
export function signGateRequest<Body extends { general: object }>(body: Body, secretKey: string): Body & { general: { signature: string } } {
  const { signature: _ignored, ...general } = body.general as Record<string, unknown>;
  const unsigned = { ...body, general };
  return { ...unsigned, general: { ...general, signature: sign(unsigned, secretKey) } } as Body & { general: { signature: string } };
}

/** Checks `general.signature` of a Gate request (what the platform does; handy in merchant tests). */
export function verifyGateRequest(body: unknown, secretKeys: SecretKeys): boolean {
  if (!isRecord(body) || !isRecord(body.general)) return false;
  const { signature, ...general } = body.general;
  return typeof signature === 'string' && verify({ ...body, general }, signature, secretKeys);
}

/**
 * A copy of a callback-shaped message with its top-level `signature` set
 * (what the platform sends; useful to test a callback endpoint).
 */
export function signCallback<Body extends object>(body: Body, secretKey: string): Omit<Body, 'signature'> & { signature: string } {
  const { signature: _ignored, ...unsigned } = body as Record<string, unknown>;
  return { ...unsigned, signature: sign(unsigned, secretKey) } as Omit<Body, 'signature'> & { signature: string };
}

/**
 * Checks the top-level `signature` of a callback or of the status answer.
 *
 * @example
 * verifyCallbackSignature(JSON.parse(rawBody), secretKey) // true or false
 */
export function verifyCallbackSignature(body: unknown, secretKeys: SecretKeys): boolean {
  if (!isRecord(body)) return false;
  const { signature, ...unsigned } = body;
  return typeof signature === 'string' && verify(unsigned, signature, secretKeys);
}

/**
 * Checks the query parameters of a Payment Page URL (decoded strings, as a
 * server receives them). JSON-valued parameters are signed as their raw
 * strings; `true`/`false` may also have been signed as `1`/`0` (the npm and
 * Python SDKs do that).
 */
export function verifyPaymentPageParams(params: Readonly<Record<string, string>>, secretKeys: SecretKeys): boolean {
  const keys = checkedKeys(secretKeys);
  const { signature, ...unsigned } = params;
  if (typeof signature !== 'string' || signature === '') return false;
  const digits = Object.fromEntries(Object.entries(unsigned).map(([key, value]) => [key, BOOLEAN_DIGITS.get(value) ?? value]));
  return matchesAny(candidateStrings([unsigned, digits]), signature.replaceAll(' ', '+'), keys);
}

const BOOLEAN_DIGITS = new Map([
  ['true', '1'],
  ['True', '1'],
  ['false', '0'],
  ['False', '0'],
]);

function candidateStrings(readings: readonly object[]): string[] {
  const candidates = new Set<string>();
  for (const reading of readings) {
    const leaves = collectLeaves(reading, { integersOnly: false });
    for (const ordering of ORDERINGS) candidates.add(renderLeaves(leaves, ordering));
  }
  return [...candidates];
}

/** Compares with every candidate, each in constant time, before answering. */
function matchesAny(candidates: readonly string[], signature: string, keys: readonly string[]): boolean {
  const received = Buffer.from(signature, 'utf8');
  let matched = false;
  for (const key of keys) {
    for (const candidate of candidates) {
      const expected = Buffer.from(hmacBase64(key, candidate), 'utf8');
      const sameLength = expected.length === received.length;
      const equal = timingSafeEqual(expected, sameLength ? received : expected) && sameLength;
      matched = equal || matched;
    }
  }
  return matched;
}

function hmacBase64(key: string, text: string): string {
  return createHmac('sha512', key).update(text, 'utf8').digest('base64');
}

/** An empty key would let anyone sign: it is a configuration error. */
function checkedKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0) throw new TypeError('a secret key must be a non-empty string');
  return key;
}

function checkedKeys(keys: SecretKeys): readonly string[] {
  const list: readonly string[] = typeof keys === 'string' ? [keys] : keys;
  if (list.length === 0) throw new TypeError('at least one secret key is needed');
  if (list.length > SECRET_KEYS_MAX) throw new TypeError(`at most ${SECRET_KEYS_MAX} secret keys are checked at once`);
  return list.map(checkedKey);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
