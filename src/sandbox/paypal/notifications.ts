/**
 * Webhook notifications API: signature verification (as PayPal's
 * `/v1/notifications/verify-webhook-signature`), the signing certificate at
 * the `PAYPAL-CERT-URL`, and event lookup.
 */
import type { FastifyInstance } from 'fastify';
import type { SandboxContext } from './context.ts';
import { SandboxError } from './errors.ts';
import { jsonObjectBody, optionalString, sendJsonText } from './http.ts';
import { findWebhookEvent, withConnection, type SigningKeyRecord } from './store.ts';
import { verifyWebhookSignature } from './webhooks.ts';

function requiredString(body: Record<string, unknown>, key: string): string {
  const value = optionalString(body, key, `/${key}`, 10_000);
  if (value === undefined) throw new SandboxError('MISSING_REQUIRED_PARAMETER', { field: `/${key}`, location: 'body' });
  return value;
}

export function registerNotificationRoutes(api: FastifyInstance, context: SandboxContext, key: SigningKeyRecord): void {
  api.post('/v1/notifications/verify-webhook-signature', async (request) => {
    const body = jsonObjectBody(request, { required: true });
    const webhookEvent = body.webhook_event;
    if (typeof webhookEvent !== 'object' || webhookEvent === null) {
      throw new SandboxError('MISSING_REQUIRED_PARAMETER', { field: '/webhook_event', location: 'body' });
    }
    const valid = verifyWebhookSignature(
      {
        authAlgorithm: requiredString(body, 'auth_algo'),
        certificateUrl: requiredString(body, 'cert_url'),
        transmissionId: requiredString(body, 'transmission_id'),
        transmissionSignature: requiredString(body, 'transmission_sig'),
        transmissionTime: requiredString(body, 'transmission_time'),
        webhookId: requiredString(body, 'webhook_id'),
        webhookEvent,
      },
      key,
      context.webhookId,
    );
    return { verification_status: valid ? 'SUCCESS' : 'FAILURE' };
  });

  api.get<{ Params: { id: string } }>('/v1/notifications/webhooks-events/:id', async (request, reply) => {
    const event = await withConnection(context.pool, (client) => findWebhookEvent(client, request.params.id));
    if (!event) throw new SandboxError('INVALID_RESOURCE_ID', { field: 'event_id', value: request.params.id, location: 'path' });
    return sendJsonText(reply, 200, event.body);
  });
}

/** The certificate is public, as PayPal's is: receivers fetch it without credentials. */
export function registerCertificateRoute(app: FastifyInstance, key: SigningKeyRecord): void {
  app.get<{ Params: { certificateId: string } }>('/v1/notifications/certs/:certificateId', async (request, reply) => {
    if (request.params.certificateId !== key.certificateId) {
      throw new SandboxError('INVALID_RESOURCE_ID', { field: 'certificate_id', value: request.params.certificateId, location: 'path' });
    }
    return reply.type('application/x-pem-file').send(key.certificatePem);
  });
}
