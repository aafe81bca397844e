/** PHP's strnatcmp, shared with the merchant SDK (see string-to-sign.ts). */
export * from '../../packages/sdk/src/natural-compare.ts';
