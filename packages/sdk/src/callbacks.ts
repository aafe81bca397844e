import { Buffer } from 'node:buffer';
import { CallbackFormatError, CallbackSignatureError } from './errors.ts';
import { isRecord, verifyCallbackSignature, type SecretKeys } from './signature.ts';
import type { Callback } from './types.ts';

/** What a framework hands over: the raw body (best), or the body its JSON parser made. */
export type CallbackBody = string | Uint8Array | object;

/** Bound on what is parsed: real callbacks are a few kilobytes. */
const callbackBytesMax = 1_048_576;

/**
 * Verifies and parses one callback, framework-agnostic: give it the raw body
 * (string or bytes) or an already parsed object. Returns the typed callback,
 * or throws `CallbackSignatureError` (never act on it: answer 4xx) or
 * `CallbackFormatError`. Answer HTTP 200 only once you have stored it: the
 * platform retries anything else, so the same callback can come twice
 * (deduplicate on `operation.id` + `operation.status`).
 *
 * During a key rotation pass both keys, newest first.
 *
 * @example
 * const callback = parseCallback(rawBody, process.env.GATEHOUSE_SECRET_KEY!);
 * if (callback.operation.code === '9999' && callback.redirect_data) redirect(callback.redirect_data.url);
 * else if (isFinalCallback(callback) && callback.payment.status === 'success') fulfil(callback.payment.id);
 */
export function parseCallback(body: CallbackBody, secretKeys: SecretKeys): Callback {
  const message = readBody(body);
  if (!verifyCallbackSignature(message, secretKeys)) throw new CallbackSignatureError();
  checkShape(message);
  return message as unknown as Callback;
}

/**
 * A handler bound to the project's keys: `handler.parse(body)`.
 *
 * @example
 * const handler = createCallbackHandler({ secretKey: current, previousSecretKey: old });
 * const callback = handler.parse(request.body);
 */
export function createCallbackHandler(options: { secretKey: string; previousSecretKey?: string }) {
  const keys = options.previousSecretKey ? [options.secretKey, options.previousSecretKey] : [options.secretKey];
  return {
    parse: (body: CallbackBody): Callback => parseCallback(body, keys),
  };
}

/** True once the operation reached its outcome (no more callbacks for it but retries). */
export function isFinalCallback(callback: Callback): boolean {
  switch (callback.operation.status) {
    case 'processing':
    case 'awaiting redirect result':
      return false;
    case 'success':
    case 'decline':
    case 'error':
    case 'expired':
      return true;
    default: {
      const unknownStatus: never = callback.operation.status;
      throw new CallbackFormatError(`unknown operation status ${String(unknownStatus)}`);
    }
  }
}

function readBody(body: CallbackBody): Record<string, unknown> {
  if (typeof body === 'string' || body instanceof Uint8Array) {
    const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
    if (Buffer.byteLength(text) > callbackBytesMax) throw new CallbackFormatError(`callback body is larger than ${callbackBytesMax} bytes`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new CallbackFormatError('callback body is not JSON');
    }
    if (!isRecord(parsed)) throw new CallbackFormatError('callback body must be a JSON object');
    return parsed;
  }
  if (!isRecord(body)) throw new CallbackFormatError('callback body must be an object');
  // A copy: the caller's object is neither trusted nor changed.
  return JSON.parse(JSON.stringify(body)) as Record<string, unknown>;
}

function checkShape(message: Record<string, unknown>): void {
  const payment = message.payment;
  const operation = message.operation;
  if (typeof message.project_id !== 'number') throw new CallbackFormatError('project_id is missing');
  if (!isRecord(payment) || typeof payment.id !== 'string' || typeof payment.status !== 'string') throw new CallbackFormatError('payment.id and payment.status are required');
  if (!isRecord(operation) || typeof operation.id !== 'number' || typeof operation.status !== 'string' || typeof operation.code !== 'string') {
    throw new CallbackFormatError('operation.id, operation.status and operation.code are required');
  }
}
