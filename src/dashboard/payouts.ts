import { FormatRegistry, Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { paypalCurrencies } from '../domain/currencies.ts';
import { GateError } from '../domain/errors.ts';
import { parseDecimal } from '../domain/money.ts';
import { checkMethodEnabled } from '../gate/method-rules.ts';
import { acceptNewPayment } from '../gate/operations.ts';
import { checkCurrency, checkIpAddress } from '../gate/purchase-rules.ts';
import { PayoutRequest, type PayoutBody } from '../gate/schemas.ts';
import type { PlatformContext } from '../processing/context.ts';
import type { Project } from '../store/projects.ts';
import { audited, projectOf, type RouteDefinition, type SignedCall } from './http.ts';

/**
 * Payouts from the Dashboard. The Dashboard builds the Gate payout request a
 * merchant would send (no signature needed: the user is signed in) and
 * checks it with Gate's own schema and rules before `acceptNewPayment`
 * writes it, exactly as Gate does.
 */
export interface PayoutInput {
  paymentId: string;
  amountMinor: bigint;
  currency: string;
  accountNumber: string;
  customerId: string;
  customerIpAddress: string;
  description?: string;
  customerEmail?: string;
  customerCountry?: string;
}

// Gate's schemas use format 'email' (checked by Fastify's ajv); TypeBox's own checker needs it registered.
if (!FormatRegistry.Has('email')) FormatRegistry.Set('email', (value) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value));

/** The Gate payout body for `input`, or a GateError saying what is wrong with it. */
export function payoutBodyFor(project: Project, input: PayoutInput): PayoutBody {
  if (input.amountMinor <= 0n || input.amountMinor > 1_000_000_000_000_000n) throw new GateError('invalidFieldFormat', 'payment.amount must be positive');
  const body = {
    general: { project_id: Number(project.id), payment_id: input.paymentId },
    payment: { amount: Number(input.amountMinor), currency: input.currency, ...(input.description ? { description: input.description } : {}) },
    customer: {
      id: input.customerId,
      ip_address: input.customerIpAddress,
      ...(input.customerEmail ? { email: input.customerEmail } : {}),
      ...(input.customerCountry ? { country: input.customerCountry } : {}),
    },
    account: { number: input.accountNumber },
  };
  const firstError = Value.Errors(PayoutRequest, body).First();
  if (firstError) {
    const field = firstError.path.replace(/^\//, '').replaceAll('/', '.') || 'body';
    throw new GateError('invalidFieldFormat', `${field} ${firstError.message}`);
  }
  checkIpAddress(body.customer.ip_address);
  checkCurrency(body.payment.currency, body.customer.country);
  return body as PayoutBody;
}

/** "10.50" in the currency's exponent -> 1050n; a GateError for anything else. */
export function amountMinorOf(amount: string, currency: string): bigint {
  const rule = paypalCurrencies.get(currency);
  if (!rule) throw new GateError('currencyNotSupported', currency || '(empty)');
  try {
    return parseDecimal(amount, rule.exponent);
  } catch {
    throw new GateError('invalidFieldFormat', `amount ${JSON.stringify(amount)} is not a ${currency} amount with at most ${rule.exponent} decimals`);
  }
}

const PayoutForm = Type.Object(
  {
    payment_id: Type.String({ minLength: 1, maxLength: 255 }),
    amount: Type.Integer({ minimum: 1, maximum: 1_000_000_000_000_000 }),
    currency: Type.String({ pattern: '^[A-Z]{3}$' }),
    account_number: Type.String({ minLength: 1, maxLength: 255 }),
    customer_id: Type.String({ minLength: 1, maxLength: 255 }),
    description: Type.Optional(Type.String({ maxLength: 255 })),
    customer_email: Type.Optional(Type.String({ maxLength: 254 })),
    customer_country: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$' })),
    method: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
  },
  { additionalProperties: false },
);

const tags = ['Dashboard: payouts'] as const;

export function payoutRoutes(context: PlatformContext): RouteDefinition[] {
  return [
    {
      method: 'POST',
      url: '/projects/:projectId/payouts',
      access: ['merchant_admin'],
      summary: 'Single payout',
      description:
        "Builds the Gate payout request (amount in minor units; the customer IP is the user's) and accepts it through `acceptNewPayment` with Gate's schema and rules; the result arrives like any payout's.",
      tags,
      errors: ['unsupportedEndpoint', 'methodNotEnabled', 'currencyNotSupported', 'currencyNotAllowedInCountry', 'amountAboveMaximum', 'paymentIdExists'],
      schema: { body: PayoutForm },
      async handle(call: SignedCall<Static<typeof PayoutForm>>) {
        const project = await projectOf(context, call, call.params.projectId);
        const form = call.body;
        const method = form.method ?? 'paypal';
        return audited(
          context,
          call,
          {
            action: 'payout.create',
            targetType: 'payment',
            targetId: `${project.id}/${form.payment_id}`,
            details: { amount: form.amount, currency: form.currency, account_number: form.account_number },
          },
          async (tx) => {
            checkMethodEnabled(context, project, method);
            const body = payoutBodyFor(project, {
              paymentId: form.payment_id,
              amountMinor: BigInt(form.amount),
              currency: form.currency,
              accountNumber: form.account_number,
              customerId: form.customer_id,
              customerIpAddress: call.request.ip,
              description: form.description,
              customerEmail: form.customer_email,
              customerCountry: form.customer_country,
            });
            return acceptNewPayment(context, project, method, 'payout', body, tx);
          },
        );
      },
    },
  ];
}
