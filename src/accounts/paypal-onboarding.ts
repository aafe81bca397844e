/**
 * PayPal onboarding of a project, the method guide's steps: the merchant asks
 * (requested), gets the PayPal link (link_sent), grants rights to a PayPal
 * merchant id (rights_granted: purchases and refunds, payouts, or both),
 * the platform sets it up (set_up), and the method is ready (ready). The
 * merchant may revoke the rights at any step (revoked), and start again.
 */
export const onboardingStates = ['requested', 'link_sent', 'rights_granted', 'set_up', 'ready', 'revoked'] as const;
export type OnboardingState = (typeof onboardingStates)[number];

export const paypalPermissions = ['purchases_refunds', 'payouts'] as const;
export type PaypalPermission = (typeof paypalPermissions)[number];

/** The states each state may move to. */
const nextStates: Record<OnboardingState | 'none', readonly OnboardingState[]> = {
  none: ['requested'],
  requested: ['link_sent', 'revoked'],
  link_sent: ['rights_granted', 'revoked'],
  rights_granted: ['set_up', 'revoked'],
  set_up: ['ready', 'revoked'],
  ready: ['revoked'],
  revoked: ['requested'],
};

export function mayMove(from: OnboardingState | undefined, to: OnboardingState): boolean {
  return nextStates[from ?? 'none'].includes(to);
}

export function isOnboardingState(value: unknown): value is OnboardingState {
  return typeof value === 'string' && (onboardingStates as readonly string[]).includes(value);
}

export function isPaypalPermission(value: unknown): value is PaypalPermission {
  return typeof value === 'string' && (paypalPermissions as readonly string[]).includes(value);
}
