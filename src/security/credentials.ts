import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GateError } from '../domain/errors.ts';
import { Secret } from '../domain/secret.ts';

/**
 * Encryption at rest of the credentials the platform keeps for merchants
 * (production projects' PayPal client secrets): AES-256-GCM with a 32-byte
 * key from `CREDENTIALS_ENCRYPTION_KEY`, never stored in the database.
 *
 * A sealed value is `v1.<key id>.<iv>.<ciphertext>.<tag>` (base64url parts).
 * The key id (the first 8 bytes of the key's SHA-256, not secret) says which
 * key sealed it, so during a rotation the previous key
 * (`CREDENTIALS_ENCRYPTION_KEY_PREVIOUS`) opens what it sealed, and nothing
 * is ever decrypted by trial. The associated data binds a value to where it
 * is stored (`projects/1001/paypal_client_secret`): a sealed secret copied
 * to another project's row does not open there.
 *
 * @example
 * const cipher = new CredentialCipher({ current: new Secret(process.env.CREDENTIALS_ENCRYPTION_KEY!) });
 * const sealed = cipher.seal(new Secret('EJ...secret'), 'projects/1001/paypal_client_secret');
 * cipher.open(sealed, 'projects/1001/paypal_client_secret').reveal(); // 'EJ...secret'
 */
export const credentialsKeyBytes = 32;
const formatVersion = 'v1';
const ivBytes = 12;
const tagBytes = 16;
/** Name of the key file the embedded default keeps in DATA_DIR. */
export const credentialsKeyFileName = 'credentials-encryption.key';

/** Where a sealed value is stored: its associated data. */
export function paypalSecretContext(projectId: bigint): string {
  return `projects/${projectId}/paypal_client_secret`;
}

/** A base64 (or base64url) text of exactly 32 bytes, or an error that names the variable. */
export function parseCredentialsKey(name: string, text: string): Buffer {
  const trimmed = text.trim();
  const key = Buffer.from(trimmed.replaceAll('-', '+').replaceAll('_', '/'), 'base64');
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed) || key.length !== credentialsKeyBytes) {
    throw new Error(`${name} must be ${credentialsKeyBytes} random bytes in base64 (make one with: openssl rand -base64 32)`);
  }
  return key;
}

function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

export interface CredentialKeys {
  /** Seals and opens; undefined: nothing can be sealed (and a write refuses). */
  current?: Secret;
  /** Opens what it sealed, during a rotation; never seals. */
  previous?: Secret;
}

export class CredentialCipher {
  readonly #keys = new Map<string, Buffer>();
  readonly #currentId: string | undefined;

  constructor(keys: CredentialKeys) {
    if (keys.current) {
      const key = parseCredentialsKey('CREDENTIALS_ENCRYPTION_KEY', keys.current.reveal());
      this.#currentId = keyIdOf(key);
      this.#keys.set(this.#currentId, key);
    }
    if (keys.previous) {
      const key = parseCredentialsKey('CREDENTIALS_ENCRYPTION_KEY_PREVIOUS', keys.previous.reveal());
      if (!this.#keys.has(keyIdOf(key))) this.#keys.set(keyIdOf(key), key);
    }
  }

  /** False without a current key: every write of a credential refuses (7014) rather than store it in plain text. */
  get canSeal(): boolean {
    return this.#currentId !== undefined;
  }

  /** The id of the key that seals now, if any (shown in logs and docs; not secret). */
  get currentKeyId(): string | undefined {
    return this.#currentId;
  }

  seal(plain: Secret, context: string): string {
    if (this.#currentId === undefined) throw new GateError('credentialsKeyMissing');
    const iv = randomBytes(ivBytes);
    const cipher = createCipheriv('aes-256-gcm', this.#keys.get(this.#currentId)!, iv, { authTagLength: tagBytes });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plain.reveal(), 'utf8'), cipher.final()]);
    return [formatVersion, this.#currentId, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  /** The plain value; throws when the key that sealed it is not configured, or the value was altered or moved. */
  open(sealed: string, context: string): Secret {
    const [version, keyId, iv, ciphertext, tag] = sealed.split('.');
    if (version !== formatVersion || !keyId || iv === undefined || ciphertext === undefined || tag === undefined) throw new Error(`not a sealed credential (${context})`);
    const key = this.#keys.get(keyId);
    if (!key) {
      throw new Error(`${context} is sealed with key ${keyId}, which is neither CREDENTIALS_ENCRYPTION_KEY nor CREDENTIALS_ENCRYPTION_KEY_PREVIOUS`);
    }
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), { authTagLength: tagBytes });
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    try {
      return new Secret(Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8'));
    } catch {
      throw new Error(`${context} does not decrypt: altered, or sealed for another row`);
    }
  }

  /** True when `sealed` was sealed by a key other than the current one (a rotation left it behind). */
  sealedWithOlderKey(sealed: string): boolean {
    return this.#currentId !== undefined && sealed.split('.')[1] !== this.#currentId;
  }

  /** True when a configured key (current or previous) can open `sealed`. */
  canOpen(sealed: string): boolean {
    return this.#keys.has(sealed.split('.')[1] ?? '');
  }
}

/**
 * The key of the embedded default (no DATABASE_URL, no
 * CREDENTIALS_ENCRYPTION_KEY): read from DATA_DIR, made there (mode 0600)
 * on first use. It sits beside the database it protects, so it guards
 * against a leaked database dump or backup of the PostgreSQL folder alone,
 * not against someone who can read the whole data folder; deployments on
 * their own PostgreSQL set the key explicitly.
 */
export function embeddedCredentialsKey(dataDir: string): Secret {
  const path = join(dataDir, credentialsKeyFileName);
  mkdirSync(dataDir, { recursive: true });
  try {
    writeFileSync(path, `${randomBytes(credentialsKeyBytes).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  // Someone may have loosened it (a copy, an umask); the key is for this user only.
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  return new Secret(readFileSync(path, 'utf8').trim());
}

/** The keys a node or the CLI uses: the configured ones, or, for the embedded default, the key file in DATA_DIR. */
export function credentialKeysFor(settings: { databaseUrl: string | undefined; dataDir: string; credentialsEncryptionKey?: Secret; credentialsEncryptionKeyPrevious?: Secret }): CredentialKeys {
  const current = settings.credentialsEncryptionKey ?? (settings.databaseUrl ? undefined : embeddedCredentialsKey(settings.dataDir));
  return { current, previous: settings.credentialsEncryptionKeyPrevious };
}
