// In your project: import { GateClient, GateRequestError } from '@gatehouse/sdk';
import { GateClient, GateRequestError, type GateAccepted } from '../src/index.ts';

/**
 * Example: start a PayPal sale through Gate. The answer only says
 * "accepted"; the intermediate callback brings the approval URL and the
 * final callback the outcome (see `callback-server.ts`).
 */
export async function startSale(options: { gateUrl: string; projectId: number; secretKey: string; paymentId: string; amountMinor?: number }): Promise<GateAccepted> {
  const gate = new GateClient({ baseUrl: options.gateUrl, projectId: options.projectId, secretKey: options.secretKey });
  try {
    return await gate.sale({
      general: { payment_id: options.paymentId },
      payment: { amount: options.amountMinor ?? 1000, currency: 'USD', description: `Order ${options.paymentId}` },
      customer: { id: 'customer-42', ip_address: '192.0.2.10', email: 'buyer@example.com' },
      return_url: { success: 'https://shop.example/paid', decline: 'https://shop.example/declined' },
    });
  } catch (error) {
    if (error instanceof GateRequestError && error.code === '3041') {
      // The payment id was used before (a retry after a timeout?): ask for its status instead.
      const status = await gate.status(options.paymentId);
      return { status: 'success', request_id: error.requestId ?? '', project_id: status.project_id, payment_id: status.payment.id };
    }
    throw error;
  }
}
