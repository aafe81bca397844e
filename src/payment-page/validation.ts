import type { FastifyRequest } from 'fastify';
import type { TSchema } from '@sinclair/typebox';
import { SaleRequest, type SaleBody } from '../gate/schemas.ts';

/**
 * Schema checks with the application's own validator (the same Ajv settings
 * as Gate: no coercion, formats such as `email` on), so a Payment Page sale
 * is held to exactly the rules of a Gate sale. Messages name the page
 * parameter the customer's link carried, not the Gate field.
 */
export function saleProblem(request: FastifyRequest, sale: SaleBody): string | undefined {
  return schemaProblem(request, SaleRequest, sale, parameterOfSalePath);
}

export function schemaProblem(
  request: FastifyRequest,
  schema: TSchema,
  value: unknown,
  nameOfPath: (instancePath: string) => string,
): string | undefined {
  const validate = request.compileValidationSchema(schema);
  if (validate(value)) return undefined;
  const first = validate.errors?.[0];
  if (!first) return nameOfPath('');
  const missing = first.keyword === 'required' ? `/${String((first.params as { missingProperty?: string }).missingProperty ?? '')}` : '';
  return `${nameOfPath(`${first.instancePath}${missing}`)} ${first.message ?? 'is invalid'}`.trim();
}

/** The page parameter a Gate sale field came from: /customer/email -> customer_email. */
export function parameterOfSalePath(instancePath: string): string {
  const parts = instancePath.split('/').filter(Boolean);
  switch (parts[0]) {
    case 'customer':
      return parts[1] === 'ip_address' ? 'customer IP address' : `customer_${parts.slice(1).join('.')}`;
    case 'payment':
      return `payment_${parts.slice(1).join('.')}`;
    case 'general':
      return parts.slice(1).join('.') || 'parameters';
    case 'additional_data':
      return ['payment_methods_options.paypal_wallet.additional_data', ...parts.slice(1)].join('.');
    default:
      return parts.join('.') || 'parameters';
  }
}

export function prefixedPath(prefix: string): (instancePath: string) => string {
  return (instancePath) => [prefix, ...instancePath.split('/').filter(Boolean)].join('.');
}
