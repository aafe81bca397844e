import { createHash } from 'node:crypto';
import {
  PaypalClient,
  ProviderUnavailableError,
  type AuthorizationResult,
  type CaptureResult,
  type PayoutResult,
  type PaypalAmount,
  type PaypalPayer,
  type RefundResult,
} from '../connectors/paypal/index.ts';
import { paypalCurrencies } from '../domain/currencies.ts';
import { formatDecimal } from '../domain/money.ts';
import { Secret } from '../domain/secret.ts';
import { paypalSecretContext, type CredentialCipher } from '../security/credentials.ts';
import type { Project, StoredPaypalCredentials } from '../store/projects.ts';
import { ProviderOutcomeUnknownError, type MoneyInput, type OperationOutcome, type Payer, type PaymentMethod, type StartOutcome } from './types.ts';

/**
 * The PayPal wallet method: translates platform operations into connector
 * calls. Test projects talk to the built-in sandbox, production projects to
 * PayPal with the merchant's onboarded credentials; nothing else decides the
 * host, so a test project can never reach PayPal and vice versa.
 */
export interface PaypalMethodSettings {
  sandboxApiUrl: string;
  sandboxClientId: string;
  sandboxClientSecret: string;
  liveApiUrl: string;
  timeoutMs: number;
  /** Opens production projects' sealed client secrets (src/security/credentials.ts). */
  credentials: CredentialCipher;
}

/**
 * What identifies a project's stored credentials without revealing the
 * secret: a changed client id or secret (set by an operator, re-sealed after
 * a key rotation) makes a new client, with its own access token.
 */
function fingerprintOf(credentials: StoredPaypalCredentials): string {
  const secret = 'sealed' in credentials.secret ? credentials.secret.sealed : createHash('sha256').update(credentials.secret.plain.reveal()).digest('hex');
  return `${credentials.clientId}\n${secret}`;
}

/** PayPal limits description fields to 127 characters. */
const descriptionMax = 127;

export function paypalAmount(money: MoneyInput): PaypalAmount {
  const rule = paypalCurrencies.get(money.currency);
  if (!rule) throw new Error(`currency ${money.currency} is not a PayPal currency`);
  return { currencyCode: money.currency, value: formatDecimal(money.amountMinor, rule.exponent) };
}

function payerOf(payer: PaypalPayer | undefined): Payer | undefined {
  if (!payer) return undefined;
  const name = [payer.givenName, payer.surname].filter(Boolean).join(' ');
  return { payerId: payer.payerId, email: payer.email, name: name || undefined };
}

function providerDate(time: string | undefined): Date | undefined {
  const date = time ? new Date(time) : undefined;
  return date && !Number.isNaN(date.getTime()) ? date : undefined;
}

function declineReasonText(result: { declineReason?: { issue: string; description: string } }): string {
  return result.declineReason ? `${result.declineReason.issue}: ${result.declineReason.description}` : 'declined';
}

function fromCapture(result: CaptureResult): OperationOutcome {
  if (result.outcome === 'decline') return { kind: 'decline', reason: declineReasonText(result), providerPaymentId: result.captureId, raw: result.raw };
  if (result.outcome === 'pending') return { kind: 'pending', providerPaymentId: result.captureId, raw: result.raw };
  return {
    kind: 'success',
    providerPaymentId: result.captureId,
    captureId: result.captureId,
    providerDate: providerDate(result.providerTime),
    payer: payerOf(result.payer),
    vaultId: result.vaultId,
    raw: result.raw,
  };
}

function fromAuthorization(result: AuthorizationResult): OperationOutcome {
  if (result.outcome === 'decline') return { kind: 'decline', reason: declineReasonText(result), providerPaymentId: result.authorizationId, raw: result.raw };
  if (result.outcome === 'pending') return { kind: 'pending', providerPaymentId: result.authorizationId, raw: result.raw };
  return {
    kind: 'success',
    providerPaymentId: result.authorizationId,
    authorizationId: result.authorizationId,
    providerDate: providerDate(result.providerTime),
    payer: payerOf(result.payer),
    vaultId: result.vaultId,
    raw: result.raw,
  };
}

function fromRefund(result: RefundResult): OperationOutcome {
  if (result.outcome === 'decline') return { kind: 'decline', reason: declineReasonText(result), providerPaymentId: result.refundId, raw: result.raw };
  if (result.outcome === 'pending') return { kind: 'pending', providerPaymentId: result.refundId, raw: result.raw };
  return { kind: 'success', providerPaymentId: result.refundId, providerDate: providerDate(result.providerTime), raw: result.raw };
}

function fromPayout(result: PayoutResult): OperationOutcome {
  if (result.outcome === 'decline') return { kind: 'decline', reason: declineReasonText(result), providerPaymentId: result.batchId, raw: result.raw };
  if (result.outcome === 'pending') return { kind: 'pending', providerPaymentId: result.batchId, raw: result.raw };
  return { kind: 'success', providerPaymentId: result.batchId, providerDate: providerDate(result.providerTime), raw: result.raw };
}

/** A purchase's outcome as the order shows it: its capture (sale) or authorization (auth). */
async function pollOrder(client: PaypalClient, type: 'sale' | 'auth', orderId: string): Promise<OperationOutcome> {
  const order = await guarded(() => client.getOrder(orderId));
  if (order.outcome === 'decline') return { kind: 'decline', reason: declineReasonText(order), providerPaymentId: orderId, raw: order.raw };
  const payer = payerOf(order.payer);
  const inner = type === 'sale' ? order.capture : order.authorization;
  if (!inner || inner.outcome === 'pending') return { kind: 'pending', providerPaymentId: orderId, raw: order.raw };
  if (inner.outcome === 'decline') return { kind: 'decline', reason: inner.statusReason ?? inner.providerStatus, providerPaymentId: orderId, raw: order.raw };
  return {
    kind: 'success',
    providerPaymentId: orderId,
    captureId: type === 'sale' ? (inner as { captureId?: string }).captureId : undefined,
    authorizationId: type === 'auth' ? (inner as { authorizationId?: string }).authorizationId : undefined,
    providerDate: providerDate(inner.providerTime),
    payer,
    raw: order.raw,
  };
}

/** Connector errors whose outcome is unknown become the platform's retry signal. */
async function guarded<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof ProviderUnavailableError) throw new ProviderOutcomeUnknownError(error.message, error);
    throw error;
  }
}

export function createPaypalMethod(settings: PaypalMethodSettings): PaymentMethod & { clientFor(project: Project): PaypalClient } {
  let sandboxClient: PaypalClient | undefined;
  /** Live clients per production project, with the fingerprint of the credentials each was made from. */
  const liveClients = new Map<bigint, { fingerprint: string; client: PaypalClient }>();

  /**
   * The project's client: the sandbox's for test projects; for production
   * ones a live client whose secret is decrypted here, once per change of
   * the stored credentials, and kept only inside the connector.
   */
  function clientFor(project: Project): PaypalClient {
    if (project.mode === 'test') {
      if (!settings.sandboxClientId || !settings.sandboxClientSecret) throw new Error(`project ${project.id}: the PayPal sandbox has no client credentials`);
      sandboxClient ??= new PaypalClient(
        { baseUrl: settings.sandboxApiUrl, clientId: settings.sandboxClientId, clientSecret: new Secret(settings.sandboxClientSecret) },
        { timeoutMs: settings.timeoutMs },
      );
      return sandboxClient;
    }
    const stored = project.paypalCredentials;
    if (!stored) throw new Error(`project ${project.id} has no PayPal credentials`);
    const fingerprint = fingerprintOf(stored);
    const cached = liveClients.get(project.id);
    if (cached?.fingerprint === fingerprint) return cached.client;
    const clientSecret = 'sealed' in stored.secret ? settings.credentials.open(stored.secret.sealed, paypalSecretContext(project.id)) : stored.secret.plain;
    const client = new PaypalClient({ baseUrl: settings.liveApiUrl, clientId: stored.clientId, clientSecret }, { timeoutMs: settings.timeoutMs });
    liveClients.set(project.id, { fingerprint, client });
    return client;
  }

  return {
    displayName: 'PayPal Wallet',
    providerNumber: 1556,
    clientFor,

    async startPurchase(project, input): Promise<StartOutcome> {
      const order = await guarded(() =>
        clientFor(project).createOrder({
          requestId: input.requestId,
          intent: input.intent === 'sale' ? 'CAPTURE' : 'AUTHORIZE',
          amount: paypalAmount(input),
          referenceId: input.paymentId.slice(0, 256),
          description: input.description ? input.description.slice(0, descriptionMax) : undefined,
          returnUrl: input.returnUrl,
          cancelUrl: input.cancelUrl,
          payer: {
            email: input.payer.email,
            givenName: input.payer.firstName,
            surname: input.payer.lastName,
            countryCode: input.payer.country,
          },
          vault: input.saveForLater ? { storeInVault: true } : undefined,
        }),
      );
      if (order.outcome === 'decline') return { kind: 'decline', reason: declineReasonText(order), raw: order.raw };
      if (!order.approveUrl) throw new Error(`PayPal order ${order.orderId} came back ${order.providerStatus} without an approval link`);
      return { kind: 'redirect', providerPaymentId: order.orderId, redirectUrl: order.approveUrl, raw: order.raw };
    },

    async completePurchase(project, input) {
      const client = clientFor(project);
      const outcome =
        input.intent === 'sale'
          ? fromCapture(await guarded(() => client.captureOrder({ orderId: input.orderId, requestId: input.requestId })))
          : fromAuthorization(await guarded(() => client.authorizeOrder({ orderId: input.orderId, requestId: input.requestId })));
      // Merchants know a purchase by the PayPal order id (the intermediate
      // callback's provider.payment_id, the PayPal JS SDK's orderID), so the
      // purchase operation keeps it; capture and authorization ids ride along.
      return { ...outcome, providerPaymentId: input.orderId };
    },

    async captureHold(project, input) {
      return fromCapture(
        await guarded(() => clientFor(project).captureAuthorization({ authorizationId: input.authorizationId, requestId: input.requestId, amount: paypalAmount(input.money) })),
      );
    },

    async releaseHold(project, input) {
      const result = await guarded(() => clientFor(project).voidAuthorization({ authorizationId: input.authorizationId, requestId: input.requestId }));
      if (result.outcome === 'decline') return { kind: 'decline', reason: declineReasonText(result), raw: result.raw };
      if (result.outcome === 'pending') return { kind: 'pending', providerPaymentId: input.authorizationId, raw: result.raw };
      return { kind: 'success', providerPaymentId: input.authorizationId, providerDate: providerDate(result.providerTime), raw: result.raw };
    },

    async refund(project, input) {
      return fromRefund(
        await guarded(() =>
          clientFor(project).refundCapture({
            captureId: input.captureId,
            requestId: input.requestId,
            amount: input.full ? undefined : paypalAmount(input.money),
            note: input.note ? input.note.slice(0, 255) : undefined,
          }),
        ),
      );
    },

    async payout(project, input) {
      return fromPayout(
        await guarded(() =>
          clientFor(project).createPayout({
            requestId: input.requestId,
            senderBatchId: input.requestId,
            senderItemId: input.requestId,
            amount: paypalAmount(input.money),
            receiver: input.receiver,
            note: input.note || undefined,
          }),
        ),
      );
    },

    async debitSaved(project, input) {
      // With a saved wallet no approval is needed; the connector completes the order (capture) itself.
      const order = await guarded(() =>
        clientFor(project).createOrder({
          requestId: input.requestId,
          intent: 'CAPTURE',
          amount: paypalAmount(input.money),
          referenceId: input.paymentId.slice(0, 256),
          description: input.description ? input.description.slice(0, descriptionMax) : undefined,
          vaultId: input.vaultId,
        }),
      );
      if (order.outcome === 'decline') return { kind: 'decline', reason: declineReasonText(order), providerPaymentId: order.orderId, raw: order.raw };
      const capture = order.capture;
      if (!capture || capture.outcome === 'pending') return { kind: 'pending', providerPaymentId: order.orderId, raw: order.raw };
      if (capture.outcome === 'decline') return { kind: 'decline', reason: capture.statusReason ?? capture.providerStatus, providerPaymentId: order.orderId, raw: order.raw };
      return {
        kind: 'success',
        providerPaymentId: order.orderId,
        captureId: capture.captureId,
        providerDate: providerDate(capture.providerTime),
        payer: payerOf(order.payer),
        raw: order.raw,
      };
    },

    async deleteSaved(project, input) {
      const result = await guarded(() => clientFor(project).deletePaymentToken(input.vaultId));
      if (result.outcome === 'decline') return { kind: 'decline', reason: declineReasonText(result), raw: result.raw };
      return { kind: 'success', providerPaymentId: '', raw: result.raw };
    },

    async poll(project, input) {
      const client = clientFor(project);
      switch (input.type) {
        case 'sale':
        case 'auth':
          return pollOrder(client, input.type, input.orderId ?? input.providerPaymentId);
        case 'capture':
          return fromCapture(await guarded(() => client.getCapture(input.providerPaymentId)));
        case 'cancel': {
          const result = await guarded(() => client.getAuthorization(input.providerPaymentId));
          if (result.outcome !== 'decline' && result.providerStatus === 'VOIDED') return { kind: 'success', providerPaymentId: input.providerPaymentId, raw: result.raw };
          return { kind: 'pending', providerPaymentId: input.providerPaymentId, raw: result.raw };
        }
        case 'refund':
          return fromRefund(await guarded(() => client.getRefund(input.providerPaymentId)));
        case 'payout':
          return fromPayout(await guarded(() => client.getPayoutBatch(input.providerPaymentId)));
        default:
          return input.type satisfies never;
      }
    },
  };
}
