/**
 * Errors of the SDK. Each has a stable `code` string to branch on.
 */

/** Limits on what signing walks, so a hostile body cannot exhaust the stack or the CPU. */
export const SIGNATURE_INPUT_LIMITS = {
  /** Path segments from the top-level key to a leaf (`general:project_id` is 2). */
  depthMax: 32,
  /** Keys and array items visited, leaves or not. */
  entriesMax: 10_000,
} as const;

export type SignatureInputLimit = 'depth' | 'entries';

/** The message nests deeper or holds more entries than {@link SIGNATURE_INPUT_LIMITS} allow. */
export class SignatureInputTooLargeError extends Error {
  readonly code = 'SIGNATURE_INPUT_TOO_LARGE';

  constructor(
    readonly limit: SignatureInputLimit,
    readonly maximum: number,
  ) {
    super(`message to sign exceeds the ${limit} limit of ${maximum}`);
    this.name = 'SignatureInputTooLargeError';
  }
}

/**
 * The message holds a value JSON cannot carry (a function, a Date, NaN...),
 * or, when signing, a number that is not an integer: the official SDKs print
 * fractions differently, so what is signed carries integers only.
 */
export class SignatureInputUnsupportedError extends TypeError {
  readonly code = 'SIGNATURE_INPUT_UNSUPPORTED';

  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`cannot sign the value at "${path}": ${reason}`);
    this.name = 'SignatureInputUnsupportedError';
  }
}

/**
 * Gate refused a request: `{"status":"error","code","message","request_id"}`
 * with a 4xx (or 5xx) HTTP status. `code` is the platform's error code
 * (`3041` payment ID already exists, `3261` invalid signature, ...).
 *
 * @example
 * try { await gate.sale(request) } catch (error) {
 *   if (error instanceof GateRequestError && error.code === '3041') { ... }
 * }
 */
export class GateRequestError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: string,
    message: string,
    readonly requestId: string | undefined,
  ) {
    super(`Gate answered ${httpStatus} ${code}: ${message}`);
    this.name = 'GateRequestError';
  }
}

/** Gate could not be reached, timed out, or answered something that is not Gate JSON. */
export class GateTransportError extends Error {
  readonly code = 'GATE_TRANSPORT';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GateTransportError';
  }
}

/** A callback (or a signed answer) whose signature does not match: never act on it. */
export class CallbackSignatureError extends Error {
  readonly code = 'CALLBACK_SIGNATURE_INVALID';

  constructor(message = 'callback signature is missing or invalid') {
    super(message);
    this.name = 'CallbackSignatureError';
  }
}

/** A callback that is signed correctly but not in the callback format (or not JSON at all). */
export class CallbackFormatError extends Error {
  readonly code = 'CALLBACK_FORMAT_INVALID';

  constructor(message: string) {
    super(message);
    this.name = 'CallbackFormatError';
  }
}
