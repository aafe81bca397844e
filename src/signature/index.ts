/**
 * Signatures of the ecommpay merchant API: Gate requests (`general.signature`),
 * callbacks (top-level `signature`) and Payment Page URLs (`signature` query
 * parameter), all `base64(HMAC-SHA512(secret, stringToSign(message)))`.
 *
 * We sign one way (full paths, natural sort, integers only: see platform.md)
 * and accept a signature built the way any official SDK builds it, with any
 * secret of the project's rotation window, comparing in constant time.
 * The orderings and what each SDK does are described in `string-to-sign.ts`.
 */
import { Buffer } from 'node:buffer';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { collectLeaves, distinctStringsToSign, renderLeaves, ORDERINGS, SIGNING_ORDERING, type Ordering } from './string-to-sign.ts';

export {
  ORDERINGS,
  SDK_ORDERINGS,
  SIGNING_ORDERING,
  stringToSign,
  type Ordering,
} from './string-to-sign.ts';
export {
  SIGNATURE_INPUT_LIMITS,
  SignatureInputTooLargeError,
  SignatureInputUnsupportedError,
  type SignatureInputLimit,
} from './errors.ts';

/**
 * A project secret: its text, or a wrapper that hands it out only on request
 * (the shape of `Secret` in `src/domain/secret.ts`, which prints as `***`).
 */
export type SecretValue = string | { reveal(): string };

/** One project secret, or the secrets valid during a rotation overlap (newest first, by convention). */
export type Secrets = SecretValue | readonly SecretValue[];

/** A rotation window holds two secrets; more than this is a caller's bug, not a policy. */
const SECRETS_MAX = 8;

/**
 * Signs a message the way we sign everything we send: full paths, natural
 * sort, numbers that are integers.
 *
 * @throws SignatureInputUnsupportedError on a fractional number or a non-JSON value
 * @throws SignatureInputTooLargeError past the flattening limits
 * @example
 * sign({ payment: { id: '000049', status: 'success' } }, 'secret')
 * // '/3TrhHVz9BHaLfgLyhoxO7dsQNzbzZa/TdO3pxQocXWwgVM6tGlzMLVfpOxFNTnkR9iiFVK/77ZedMcbkCjmng=='
 */
export function sign(message: unknown, secret: SecretValue): string {
  const key = secretText(secret);
  const leaves = collectLeaves(message, { integersOnly: true });
  return hmacBase64(key, renderLeaves(leaves, SIGNING_ORDERING));
}

/**
 * True when `signature` was computed over `message` (without its signature
 * key) under any SDK ordering and with any of `secrets`. Every candidate is
 * computed and compared, each in constant time, before answering.
 *
 * @throws SignatureInputTooLargeError past the flattening limits (a hostile body)
 * @example
 * verify(callbackWithoutSignature, received, [newSecret, oldSecret]) // true or false
 */
export function verify(message: unknown, signature: string | null | undefined, secrets: Secrets): boolean {
  const secretList = normalizeSecrets(secrets);
  if (typeof signature !== 'string' || signature === '') return false;
  return matchesAny(candidateStrings([message]), signature, secretList);
}

/**
 * The orderings under which `message` gives a different string than the one
 * we sign with: merchants whose SDK uses one of them will reject our
 * signature. Empty for ordinary messages; worth a warning in the log otherwise
 * (an array of more than 10 items is the usual cause).
 *
 * @example
 * disagreeingOrderings({ items: Array.from({ length: 11 }, (_, index) => index) })
 * // ['full-path-codepoint', 'whole-string-codepoint', 'whole-string-utf16']
 */
export function disagreeingOrderings(message: unknown): Ordering[] {
  const leaves = collectLeaves(message, { integersOnly: false });
  const signed = renderLeaves(leaves, SIGNING_ORDERING);
  return ORDERINGS.filter((ordering) => renderLeaves(leaves, ordering) !== signed);
}

// ---------------------------------------------------------------- Gate

export type GateSignatureCheck = 'ok' | 'missing' | 'invalid';

/**
 * A copy of a Gate request body with `general.signature` set, computed over
 * the body without `general.signature`.
 *
 * @example
 * signGateRequest({ general: { project_id: 42, payment_id: 'p-1' } }, secret)
 * // { general: { project_id: 42, payment_id: 'p-1', signature: '...' } }
 */
export function signGateRequest<Body extends object>(
  body: Body,
  secret: SecretValue,
): Body & { general: { signature: string } } {
  const unsigned = withoutGeneralSignature(body as Record<string, unknown>);
  const signature = sign(unsigned, secret);
  const general = { ...(unsigned.general as Record<string, unknown> | undefined), signature };
  return { ...body, general } as Body & { general: { signature: string } };
}

/**
 * Checks a received Gate request body. `missing` when `general.signature` is
 * absent or empty (ecommpay code 3262), `invalid` when it does not match
 * (3261). Every SDK removes the key entirely before signing, so it is removed
 * here, never replaced by an empty value.
 *
 * @throws SignatureInputTooLargeError past the flattening limits
 * @example
 * verifyGateRequest(JSON.parse(rawBody), project.secrets) // 'ok'
 */
export function verifyGateRequest(body: unknown, secrets: Secrets): GateSignatureCheck {
  const secretList = normalizeSecrets(secrets);
  if (!isRecord(body) || !isRecord(body.general)) return 'missing';
  const signature = body.general.signature;
  if (signature === undefined || signature === null || signature === '') return 'missing';
  if (typeof signature !== 'string') return 'invalid';
  const unsigned = withoutGeneralSignature(body);
  return matchesAny(candidateStrings([unsigned]), signature, secretList) ? 'ok' : 'invalid';
}

function withoutGeneralSignature(body: Record<string, unknown>): Record<string, unknown> {
  if (!isRecord(body.general)) return { ...body };
  const { signature: _signature, ...general } = body.general;
  return { ...body, general };
}

// ---------------------------------------------------------------- Callbacks

/**
 * A copy of a callback body with the top-level `signature` set, computed over
 * the body without `signature`.
 *
 * The npm SDK's `Callback` deletes `signature` keys at every depth before
 * checking and throws on any `null` value; the Python SDK prints `null` as
 * `None`. Callback bodies should therefore hold no nested `signature` key and
 * no `null`.
 *
 * @example
 * signCallback({ project_id: 42, payment: { id: 'p-1', status: 'success' } }, secret)
 * // { project_id: 42, payment: {...}, signature: '...' }
 */
export function signCallback<Body extends object>(
  body: Body,
  secret: SecretValue,
): Omit<Body, 'signature'> & { signature: string } {
  const { signature: _signature, ...unsigned } = body as Record<string, unknown>;
  return { ...unsigned, signature: sign(unsigned, secret) } as Omit<Body, 'signature'> & { signature: string };
}

/**
 * Checks a callback body's top-level `signature` (what a merchant does; our
 * test receivers use it).
 *
 * @example
 * verifyCallback(JSON.parse(rawBody), 'secret') // true
 */
export function verifyCallback(body: unknown, secrets: Secrets): boolean {
  const secretList = normalizeSecrets(secrets);
  if (!isRecord(body)) return false;
  const { signature, ...unsigned } = body;
  if (typeof signature !== 'string' || signature === '') return false;
  return matchesAny(candidateStrings([unsigned]), signature, secretList);
}

// ---------------------------------------------------------------- Payment Page

/**
 * Checks the query parameters of a Payment Page URL, as received (already
 * URL-decoded strings). JSON-valued parameters (`recurring`,
 * `payment_methods_options`...) are signed as the raw strings received.
 *
 * Two SDK habits are tolerated:
 * - the npm and Python SDKs put `true`/`True` (`false`/`False`) in the URL but
 *   sign `1` (`0`): both readings of the parameters are tried;
 * - the PHP SDK appends the signature without URL-encoding it, so its `+`
 *   arrive as spaces (base64 has no spaces, so reading them back is safe).
 *
 * A parameter that is not a single string (a repeated `?a=1&a=2`) fails the check.
 *
 * @example
 * verifyPaymentPageQuery(Object.fromEntries(new URL(url).searchParams), 'secret') // true
 */
export function verifyPaymentPageQuery(params: Readonly<Record<string, string>>, secrets: Secrets): boolean {
  const secretList = normalizeSecrets(secrets);
  const { signature, ...unsigned } = params;
  if (typeof signature !== 'string' || signature === '') return false;
  const entries = Object.entries(unsigned);
  if (!entries.every(([, value]) => typeof value === 'string')) return false;

  const asReceived = Object.fromEntries(entries);
  const readings: Record<string, string>[] = [asReceived];
  const booleansAsDigits = Object.fromEntries(entries.map(([key, value]) => [key, BOOLEAN_DIGITS.get(value) ?? value]));
  if (entries.some(([key, value]) => booleansAsDigits[key] !== value)) readings.push(booleansAsDigits);

  return matchesAny(candidateStrings(readings), signature.replaceAll(' ', '+'), secretList);
}

const BOOLEAN_DIGITS = new Map([
  ['true', '1'],
  ['True', '1'],
  ['false', '0'],
  ['False', '0'],
]);

/**
 * A copy of Payment Page parameters with `signature` set, computed over the
 * parameters without `signature`. Encode the result with `URLSearchParams`.
 *
 * @example
 * const query = new URLSearchParams(signPaymentPageParams({ project_id: '42', payment_id: 'p-1' }, secret))
 */
export function signPaymentPageParams(
  params: Readonly<Record<string, string>>,
  secret: SecretValue,
): Record<string, string> & { signature: string } {
  const { signature: _signature, ...unsigned } = params;
  return { ...unsigned, signature: sign(unsigned, secret) };
}

// ---------------------------------------------------------------- Shared

/** Every distinct string any ordering gives for any of the readings of a message. */
function candidateStrings(readings: readonly unknown[]): string[] {
  const candidates = new Set<string>();
  for (const reading of readings) {
    for (const candidate of distinctStringsToSign(collectLeaves(reading, { integersOnly: false }))) candidates.add(candidate);
  }
  return [...candidates];
}

/**
 * Compares `signature` with every candidate signature without stopping at
 * the first match or the first differing byte: the time taken depends on the
 * number of candidates only. Signatures are compared as the base64 text the
 * SDKs compare, so a differently padded or non-canonical encoding fails.
 */
function matchesAny(candidates: readonly string[], signature: string, secrets: readonly string[]): boolean {
  const received = Buffer.from(signature, 'utf8');
  let matched = false;
  for (const secret of secrets) {
    for (const candidate of candidates) {
      const expected = Buffer.from(hmacBase64(secret, candidate), 'utf8');
      const sameLength = expected.length === received.length;
      // timingSafeEqual throws on different lengths; compare the expected
      // value with itself instead so every candidate costs the same.
      const equal = timingSafeEqual(expected, sameLength ? received : expected) && sameLength;
      matched = equal || matched;
    }
  }
  return matched;
}

function hmacBase64(secret: string, text: string): string {
  return createHmac('sha512', secret).update(text, 'utf8').digest('base64');
}

function normalizeSecrets(secrets: Secrets): readonly string[] {
  const list: readonly SecretValue[] = Array.isArray(secrets) ? secrets : [secrets as SecretValue];
  if (list.length === 0) throw new TypeError('at least one secret is needed to verify a signature');
  if (list.length > SECRETS_MAX) throw new TypeError(`at most ${SECRETS_MAX} secrets are checked at once`);
  return list.map(secretText);
}

/** An empty secret would let anyone sign: it is a configuration error, never a valid key. */
function secretText(secret: SecretValue): string {
  const text = typeof secret === 'string' ? secret : typeof secret?.reveal === 'function' ? secret.reveal() : undefined;
  if (typeof text !== 'string' || text.length === 0) {
    throw new TypeError('a signature secret must be a non-empty string');
  }
  return text;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
