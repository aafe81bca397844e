/**
 * The string every ecommpay SDK signs, in each SDK's ordering. One
 * implementation serves the platform and the merchant SDK (packages/sdk), so
 * what we sign and what merchants verify can never drift apart.
 */
export * from '../../packages/sdk/src/string-to-sign.ts';
