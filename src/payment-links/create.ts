import { GateError } from '../domain/errors.ts';
import { checkCurrency, checkPurchaseMaximum } from '../gate/purchase-rules.ts';
import type { PlatformContext } from '../processing/context.ts';
import { isPaypalAvailable } from '../payment-page/flow.ts';
import type { Queryable } from '../store/db.ts';
import type { Project } from '../store/projects.ts';
import { insertLink, type PaymentLink } from './store.ts';

/** What a merchant asks for, from the signed API or the Dashboard. */
export interface LinkRequest {
  amount: number;
  currency: string;
  description: string;
  single_use: boolean;
  expires_at?: string;
}

/**
 * Creates a payment link after the rules a Gate purchase of that amount would
 * meet (PayPal available to the project, a PayPal currency, the purchase
 * maximum) and a future expiry. One place for both the signed API and the
 * Dashboard, so the two cannot drift apart. `db`: the pool, or the
 * transaction of an audited Dashboard action.
 */
export async function createLink(
  context: PlatformContext,
  project: Project,
  link: LinkRequest,
  now: Date,
  fieldPrefix = 'link.',
  db: Queryable = context.pool,
): Promise<PaymentLink> {
  if (!isPaypalAvailable(context, project)) throw new GateError('methodNotEnabled', 'paypal');
  const amountMinor = BigInt(link.amount);
  checkCurrency(link.currency, undefined);
  checkPurchaseMaximum(amountMinor, link.currency, await context.usdRates(db));
  let expiresAt: Date | null = null;
  if (link.expires_at !== undefined) {
    expiresAt = new Date(link.expires_at);
    if (Number.isNaN(expiresAt.getTime())) throw new GateError('invalidFieldFormat', `${fieldPrefix}expires_at is not a date`);
    if (expiresAt.getTime() <= now.getTime()) throw new GateError('invalidFieldFormat', `${fieldPrefix}expires_at must be in the future`);
  }
  return insertLink(db, {
    projectId: project.id,
    amountMinor,
    currency: link.currency,
    description: link.description,
    singleUse: link.single_use,
    expiresAt,
  });
}
