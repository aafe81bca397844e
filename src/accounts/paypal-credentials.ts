import type { Logger } from 'pino';
import { GateError } from '../domain/errors.ts';
import type { Secret } from '../domain/secret.ts';
import { paypalSecretContext, type CredentialCipher } from '../security/credentials.ts';
import type { Queryable } from '../store/db.ts';
import {
  lastFourOf,
  projectsWithPaypalCredentials,
  resealPaypalSecret,
  storePaypalCredentials,
  type Project,
  type StoredPaypalCredentials,
} from '../store/projects.ts';

/**
 * A production project's PayPal REST credentials (the client id and secret
 * of the merchant's app at PayPal, from onboarding). The secret is sealed
 * before it reaches the database and opened only by the connector
 * (src/methods/paypal.ts); everything else sees the client id and the last
 * 4 characters of the secret.
 */
export const clientIdPattern = '^[A-Za-z0-9_.-]{1,128}$';
/** Printable ASCII without spaces; at least 8 characters, so that the 4 shown are never most of it. */
export const clientSecretPattern = '^[\\x21-\\x7e]{8,256}$';

export interface PaypalCredentialsView {
  client_id: string;
  client_secret_last4: string;
  updated_at: string | null;
}

/** What an answer, a page or the CLI may show: never the secret. */
export function paypalCredentialsView(credentials: StoredPaypalCredentials | null): PaypalCredentialsView | null {
  if (!credentials) return null;
  return { client_id: credentials.clientId, client_secret_last4: credentials.secretLast4, updated_at: credentials.updatedAt?.toISOString() ?? null };
}

/**
 * Sets (or replaces) a production project's PayPal credentials, the secret
 * sealed with the current key. Refuses test projects (7015), and refuses
 * (7014) rather than store the secret in plain text when no key is set.
 *
 * @example
 * await setPaypalCredentials(tx, context.credentials, project, { clientId: 'AYx…', clientSecret: new Secret('EJ…') });
 */
export async function setPaypalCredentials(
  db: Queryable,
  cipher: CredentialCipher,
  project: Project,
  input: { clientId: string; clientSecret: Secret },
): Promise<PaypalCredentialsView> {
  if (project.mode !== 'production') throw new GateError('productionProjectsOnly');
  if (!new RegExp(clientIdPattern).test(input.clientId)) throw new GateError('invalidFieldFormat', 'client_id: letters, digits, ".", "_" and "-", at most 128');
  if (!new RegExp(clientSecretPattern).test(input.clientSecret.reveal())) throw new GateError('invalidFieldFormat', 'client_secret: 8 to 256 printable characters without spaces');
  const stored = await storePaypalCredentials(db, project.id, {
    clientId: input.clientId,
    secretSealed: cipher.seal(input.clientSecret, paypalSecretContext(project.id)),
    secretLast4: lastFourOf(input.clientSecret),
  });
  if (!stored) throw new GateError('dashboardNotFound', `project ${project.id}`);
  return paypalCredentialsView(stored.paypalCredentials)!;
}

export interface SealingReport {
  /** Plain-text secrets of old, now sealed. */
  sealed: number;
  /** Secrets a rotated-out key had sealed, now sealed with the current key. */
  resealed: number;
  /** Plain-text secrets left as they are: no key to seal them with. */
  leftPlain: number;
  /** Sealed secrets no configured key opens (the key that sealed them is gone). */
  unreadable: number;
}

/**
 * Run by every node at start, before it serves: seals the plain-text
 * secrets an older version stored, and re-seals with the current key what
 * the previous key (`CREDENTIALS_ENCRYPTION_KEY_PREVIOUS`) sealed, so that
 * key can be dropped after one restart of every node. Bounded by the number
 * of production projects; a row changed meanwhile by another node or an
 * operator is left to them.
 */
export async function sealStoredPaypalSecrets(db: Queryable, cipher: CredentialCipher, log: Logger): Promise<SealingReport> {
  const report: SealingReport = { sealed: 0, resealed: 0, leftPlain: 0, unreadable: 0 };
  for (const project of await projectsWithPaypalCredentials(db)) {
    const credentials = project.paypalCredentials!;
    const context = paypalSecretContext(project.id);
    if ('plain' in credentials.secret) {
      if (!cipher.canSeal) {
        report.leftPlain += 1;
        continue;
      }
      if (await resealPaypalSecret(db, project.id, credentials.secret, cipher.seal(credentials.secret.plain, context), lastFourOf(credentials.secret.plain))) report.sealed += 1;
      continue;
    }
    if (!cipher.canOpen(credentials.secret.sealed)) {
      report.unreadable += 1;
      log.error({ project_id: Number(project.id) }, 'the PayPal client secret of this project was sealed with a key that is not configured: set CREDENTIALS_ENCRYPTION_KEY_PREVIOUS to it, or set the credentials again');
      continue;
    }
    if (!cipher.sealedWithOlderKey(credentials.secret.sealed)) continue;
    const plain = cipher.open(credentials.secret.sealed, context);
    if (await resealPaypalSecret(db, project.id, credentials.secret, cipher.seal(plain, context), credentials.secretLast4)) report.resealed += 1;
  }
  if (report.leftPlain > 0) {
    log.warn({ projects: report.leftPlain }, 'PayPal client secrets are stored in plain text: set CREDENTIALS_ENCRYPTION_KEY and restart to encrypt them');
  }
  if (report.sealed + report.resealed > 0) log.info({ ...report, key_id: cipher.currentKeyId }, 'PayPal client secrets sealed with the current credentials key');
  return report;
}
