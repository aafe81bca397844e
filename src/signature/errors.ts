/**
 * Errors of the signature module. Both mean "this message cannot be signed or
 * checked"; the interface that received the message maps them to its own
 * client-facing code (a Gate request that is too deep is a bad request, not a
 * server error).
 */

/** Limits on what the flattening walks, so a hostile body cannot exhaust the stack or the CPU. */
export const SIGNATURE_INPUT_LIMITS = {
  /** Path segments from the top-level key to a leaf (`general:project_id` is 2). */
  depthMax: 32,
  /**
   * Keys and array items visited, leaves or not. Counting every entry rather
   * than only the leaves also bounds a body made of a million empty objects,
   * which has no leaves but still costs a walk.
   */
  entriesMax: 10_000,
} as const;

export type SignatureInputLimit = 'depth' | 'entries';

/**
 * The message nests deeper or holds more entries than {@link SIGNATURE_INPUT_LIMITS} allow.
 *
 * @example
 * try { verifyGateRequest(body, secrets) } catch (error) {
 *   if (error instanceof SignatureInputTooLargeError) answer400()
 * }
 */
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
 * The message holds a value that JSON cannot carry (a function, a Date, NaN...),
 * or, when signing, a number that is not an integer: the SDKs print fractions
 * differently (the Go SDK truncates them), so what we sign carries integers only.
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
