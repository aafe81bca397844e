import { GateError } from '../domain/errors.ts';
import type { PlatformContext } from '../processing/context.ts';
import type { Project } from '../store/projects.ts';

/**
 * Whether a project may use a payment method now, asked the same way by
 * Gate, the Dashboard (refunds, captures, payouts, mass payouts) and the
 * Payment Page and payment links, so none of them accepts what another
 * refuses. The onboarding rights of each operation (`checkOnboardingGrants`)
 * are checked after this, inside the operation's transaction.
 *
 * @example
 * checkMethodEnabled(context, productionProjectWithoutCredentials, 'paypal'); // throws 3029
 */
export function checkMethodEnabled(context: Pick<PlatformContext, 'methods'>, project: Project, method: string): void {
  if (!context.methods.has(method)) throw new GateError('unsupportedEndpoint', `payment method ${method}`);
  if (method === 'paypal' && !project.paypalEnabled) throw new GateError('methodNotEnabled', method);
  // A production project without PayPal credentials could only fail later, at PayPal.
  if (method === 'paypal' && project.mode === 'production' && !project.paypalCredentials) {
    throw new GateError('methodNotEnabled', `${method}: the project has no PayPal credentials yet`);
  }
}

/** `checkMethodEnabled` as a yes or no (pages that offer a method rather than refuse a request). */
export function isMethodEnabled(context: Pick<PlatformContext, 'methods'>, project: Project, method: string): boolean {
  try {
    checkMethodEnabled(context, project, method);
    return true;
  } catch (error) {
    if (error instanceof GateError) return false;
    throw error;
  }
}
