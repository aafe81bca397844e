import { createHmac, timingSafeEqual } from 'node:crypto';
import type { PlatformContext } from './context.ts';

/**
 * Where the wallet sends the customer back: our own endpoint, which starts
 * the completion and then redirects to the merchant's return_url. The tag
 * proves the URL is ours.
 */
export type ReturnResult = 'approved' | 'cancelled';

function tagFor(key: string, operationId: string, result: ReturnResult): string {
  return createHmac('sha256', key).update(`${operationId}:${result}`).digest('base64url').slice(0, 32);
}

export function walletReturnUrl(context: PlatformContext, method: string, operationId: bigint, result: ReturnResult): string {
  const id = String(operationId);
  const query = new URLSearchParams({ operation: id, result, tag: tagFor(context.urlSigningKey, id, result) });
  return `${context.config.publicGateUrl}/v2/payment/wallet/${method}/return?${query}`;
}

export function isGenuineReturn(context: PlatformContext, operationId: string, result: ReturnResult, tag: string): boolean {
  const expected = Buffer.from(tagFor(context.urlSigningKey, operationId, result));
  const given = Buffer.from(tag);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
