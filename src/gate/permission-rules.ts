import type { PaypalPermission } from '../accounts/paypal-onboarding.ts';
import { GateError } from '../domain/errors.ts';
import type { OperationType } from '../domain/statuses.ts';
import type { Queryable } from '../store/db.ts';
import { grantedPaypalPermissions, type Project } from '../store/projects.ts';

/**
 * The right on the merchant's own PayPal account that each operation a
 * merchant can start needs. The merchant grants these at onboarding
 * (`rights_granted`); PayPal would refuse anything else, so Gate refuses
 * it first, with nothing written. Listing every operation type means a new
 * one cannot be forgotten.
 */
const permissionNeeded: Record<OperationType, PaypalPermission | null> = {
  sale: 'purchases_refunds',
  auth: 'purchases_refunds',
  capture: 'purchases_refunds',
  cancel: 'purchases_refunds',
  refund: 'purchases_refunds',
  recurring: 'purchases_refunds',
  payout: 'payouts',
  // Stopping future debits must stay possible whatever the rights: it protects the customer.
  recurring_cancel: null,
  // PayPal opens disputes; no merchant starts one.
  chargeback: null,
};

const permissionWords: Record<PaypalPermission, string> = { purchases_refunds: 'purchases and refunds', payouts: 'payouts' };

/**
 * Refuses (3029) an operation whose right the project's PayPal onboarding
 * does not grant. Production projects only: test projects use the built-in
 * sandbox and need no onboarding.
 *
 * @example
 * checkPaypalPermission(productionProject, 'paypal', 'payout', ['purchases_refunds']); // throws 3029
 */
export function checkPaypalPermission(project: Project, method: string, operationType: OperationType, granted: readonly PaypalPermission[]): void {
  const needed = needsOnboarding(project, method) ? permissionNeeded[operationType] : null;
  if (needed === null || granted.includes(needed)) return;
  throw new GateError('methodNotEnabled', `${method}: the project's PayPal onboarding does not grant ${permissionWords[needed]}`);
}

function needsOnboarding(project: Project, method: string): boolean {
  return project.mode === 'production' && method === 'paypal';
}

/**
 * `checkPaypalPermission` with the rights read from `db` (the caller's
 * transaction, before it writes anything). Test projects read nothing.
 */
export async function checkOnboardingGrants(db: Queryable, project: Project, method: string, operationType: OperationType): Promise<void> {
  if (!needsOnboarding(project, method)) return;
  checkPaypalPermission(project, method, operationType, await grantedPaypalPermissions(db, project.id));
}
