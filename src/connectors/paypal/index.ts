/**
 * The PayPal connector: a stateless, typed client of PayPal's REST API.
 *
 * - `client.ts`: plumbing (URLs, headers, OAuth2 token cache, timeouts, HTTP classification);
 * - `transformers.ts`: pure conversions (request bodies, status classification, results);
 * - `types.ts`: credentials, inputs, closed status unions, results;
 * - `errors.ts`: what it throws.
 *
 * @example
 * import { PaypalClient, ProviderUnavailableError } from '../connectors/paypal/index.ts';
 * import { Secret } from '../domain/secret.ts';
 *
 * const paypal = new PaypalClient({ baseUrl, clientId, clientSecret: new Secret(secret) });
 * try {
 *   const capture = await paypal.captureOrder({ orderId, requestId: `op-${operationId}` });
 *   // capture.outcome: 'success' | 'pending' | 'decline'
 * } catch (error) {
 *   if (error instanceof ProviderUnavailableError) retryLaterWithSameRequestId();
 *   else throw error;
 * }
 */
export { PaypalClient, type DeletePaymentTokenResult } from './client.ts';
export * from './errors.ts';
export * from './types.ts';
export {
  authorizationOutcome,
  captureOutcome,
  orderOutcome,
  payoutBatchOutcome,
  payoutItemOutcome,
  refundOutcome,
  voidOutcome,
  recipientTypeFor,
} from './transformers.ts';
