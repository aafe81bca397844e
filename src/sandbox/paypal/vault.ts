/**
 * Vault v3 payment tokens. Tokens are made by orders created with
 * `payment_source.paypal.attributes.vault.store_in_vault: "ON_SUCCESS"` once
 * they are captured or authorized (see orders.ts); here they are shown and
 * deleted. A deleted token reads as unknown and can no longer pay.
 */
import type { FastifyInstance } from 'fastify';
import type { SandboxContext } from './context.ts';
import { SandboxError } from './errors.ts';
import { paymentTokenRepresentation } from './representations.ts';
import { findVaultToken, inTransaction, markVaultTokenDeleted, withConnection } from './store.ts';

const notFound = (id: string) => new SandboxError('INVALID_RESOURCE_ID', { field: 'id', value: id, location: 'path' });

export function registerVaultRoutes(api: FastifyInstance, context: SandboxContext): void {
  api.get<{ Params: { id: string } }>('/v3/vault/payment-tokens/:id', (request) =>
    withConnection(context.pool, async (client) => {
      const token = await findVaultToken(client, request.params.id);
      if (!token || token.status === 'DELETED') throw notFound(request.params.id);
      return paymentTokenRepresentation(context, token);
    }),
  );

  api.delete<{ Params: { id: string } }>('/v3/vault/payment-tokens/:id', async (request, reply) => {
    await inTransaction(context.pool, async (client) => {
      const token = await findVaultToken(client, request.params.id, { forUpdate: true });
      if (!token || token.status === 'DELETED') throw notFound(request.params.id);
      await markVaultTokenDeleted(client, token.id, context.now());
    });
    return reply.code(204).send();
  });
}
