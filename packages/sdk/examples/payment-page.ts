// In your project: import { paymentPageUrl } from '@gatehouse/sdk';
import { paymentPageUrl } from '../src/index.ts';

/** Example: the signed URL of a Payment Page for an order, to redirect the customer to. */
export function checkoutUrl(options: { paymentPageBaseUrl: string; projectId: number; secretKey: string; paymentId: string }): string {
  return paymentPageUrl({
    baseUrl: options.paymentPageBaseUrl,
    projectId: options.projectId,
    secretKey: options.secretKey,
    params: {
      payment_id: options.paymentId,
      payment_amount: 2500,
      payment_currency: 'EUR',
      customer_id: 'customer-42',
      payment_description: 'Two books',
      customer_email: 'buyer@example.com',
      language_code: 'en',
    },
  });
}
