/**
 * `@gatehouse/sdk`: a merchant's side of the ecommpay API as Gatehouse speaks
 * it, with no runtime dependencies (Node 20+: `fetch`, `node:crypto`).
 *
 * - `GateClient`: typed, signed Gate requests (sale, auth, capture, cancel,
 *   refund, payout, recurring, recurring cancel, status);
 * - `parseCallback` / `createCallbackHandler`: verify and parse callbacks;
 * - `paymentPageUrl`: signed Payment Page URLs;
 * - `sign`, `verify` and friends: the signature itself.
 */
export { GateClient, type GateClientOptions } from './gate-client.ts';
export { createCallbackHandler, isFinalCallback, parseCallback, type CallbackBody } from './callbacks.ts';
export { paymentPageQuery, paymentPageUrl, type PaymentPageParams, type PaymentPageUrlOptions } from './payment-page.ts';
export {
  ORDERINGS,
  SDK_ORDERINGS,
  SIGNING_ORDERING,
  sign,
  signCallback,
  signGateRequest,
  stringToSign,
  verify,
  verifyCallbackSignature,
  verifyGateRequest,
  verifyPaymentPageParams,
  type Ordering,
  type SecretKeys,
} from './signature.ts';
export {
  CallbackFormatError,
  CallbackSignatureError,
  GateRequestError,
  GateTransportError,
  SIGNATURE_INPUT_LIMITS,
  SignatureInputTooLargeError,
  SignatureInputUnsupportedError,
} from './errors.ts';
export type * from './types.ts';
