/**
 * OAuth 2 client credentials, as PayPal's `/v1/oauth2/token`: Basic auth with
 * the client id and secret, `grant_type=client_credentials`, a Bearer token
 * valid for 9 hours. Tokens are stateless (HMAC-signed expiry) so they stay
 * valid across restarts and across nodes that share the credentials.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { oauthErrors, SandboxError } from './errors.ts';
import { paypalTime } from './representations.ts';

const tokenLifetimeSeconds = 32_400;
const tokenPrefix = 'A21AA';
/** PayPal's sandbox apps answer with an app id of this shape. */
const appId = 'APP-80W284485P519543T';
const scope = [
  'https://uri.paypal.com/services/payments/payment/authcapture',
  'openid',
  'https://uri.paypal.com/services/disputes/read-seller',
  'https://uri.paypal.com/services/payments/refund',
  'https://uri.paypal.com/services/vault/payment-tokens/readwrite',
  'https://uri.paypal.com/services/payments/payouts',
  'https://uri.paypal.com/services/payments/payment',
  'https://uri.paypal.com/services/applications/webhooks',
].join(' ');

/** Constant-time comparison of two strings of any length. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** Holds the credentials in private fields, so logging or inspecting it never shows the secret. */
export class AccessTokens {
  readonly #clientId: string;
  readonly #clientSecret: string;
  readonly #signingKey: Buffer;

  constructor(clientId: string, clientSecret: string) {
    this.#clientId = clientId;
    this.#clientSecret = clientSecret;
    this.#signingKey = createHash('sha256').update(`gatehouse paypal sandbox access token\0${clientId}\0${clientSecret}`).digest();
  }

  /** Checks `Authorization: Basic base64(client_id:client_secret)`. */
  basicCredentialsMatch(authorizationHeader: string | undefined): boolean {
    const match = /^Basic\s+(.+)$/i.exec(authorizationHeader ?? '');
    if (!match) return false;
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
    const separator = decoded.indexOf(':');
    if (separator < 0) return false;
    const idMatches = sameSecret(decoded.slice(0, separator), this.#clientId);
    const secretMatches = sameSecret(decoded.slice(separator + 1), this.#clientSecret);
    return idMatches && secretMatches;
  }

  issue(): { accessToken: string; expiresInSeconds: number } {
    const expiresAtSeconds = Math.floor(Date.now() / 1000) + tokenLifetimeSeconds;
    const payload = `${expiresAtSeconds}.${randomBytes(12).toString('base64url')}`;
    return { accessToken: `${tokenPrefix}${payload}.${this.#sign(payload)}`, expiresInSeconds: tokenLifetimeSeconds };
  }

  /** Token lifetimes run on the wall clock: an injected business clock must not log clients out. */
  isValid(token: string): boolean {
    if (!token.startsWith(tokenPrefix)) return false;
    const body = token.slice(tokenPrefix.length);
    const lastDot = body.lastIndexOf('.');
    if (lastDot < 0) return false;
    const payload = body.slice(0, lastDot);
    if (!sameSecret(body.slice(lastDot + 1), this.#sign(payload))) return false;
    const expiresAtSeconds = Number(payload.split('.')[0]);
    return Number.isFinite(expiresAtSeconds) && expiresAtSeconds * 1000 > Date.now();
  }

  #sign(payload: string): string {
    return createHmac('sha256', this.#signingKey).update(payload).digest('base64url');
  }
}

export function registerOauthRoutes(app: FastifyInstance, tokens: AccessTokens, now: () => Date): void {
  app.post('/v1/oauth2/token', async (request, reply) => {
    if (!tokens.basicCredentialsMatch(request.headers.authorization)) {
      return reply.code(oauthErrors.invalidClient.httpStatus).send(oauthErrors.invalidClient.body);
    }
    const form = (request.body ?? {}) as Record<string, unknown>;
    if (form.grant_type !== 'client_credentials') {
      return reply.code(oauthErrors.unsupportedGrantType.httpStatus).send(oauthErrors.unsupportedGrantType.body);
    }
    const { accessToken, expiresInSeconds } = tokens.issue();
    return reply.send({
      scope,
      access_token: accessToken,
      token_type: 'Bearer',
      app_id: appId,
      expires_in: expiresInSeconds,
      nonce: `${paypalTime(now())}${randomBytes(24).toString('base64url')}`,
    });
  });
}

/** onRequest hook for every API route: a valid Bearer token from /v1/oauth2/token. */
export function requireAccessToken(tokens: AccessTokens) {
  return async (request: FastifyRequest): Promise<void> => {
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    if (!match || !tokens.isValid(match[1]!)) throw new SandboxError('INVALID_ACCESS_TOKEN', { location: 'header' });
  };
}
