/**
 * Errors of the signature module, shared with the merchant SDK. Both mean
 * "this message cannot be signed or checked"; the interface that received the
 * message maps them to its own client-facing code (a Gate request that is too
 * deep is a bad request, not a server error).
 */
export { SIGNATURE_INPUT_LIMITS, SignatureInputTooLargeError, SignatureInputUnsupportedError, type SignatureInputLimit } from '../../packages/sdk/src/errors.ts';
