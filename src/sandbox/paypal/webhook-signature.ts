/**
 * PayPal's webhook signature: SHA256withRSA over
 * `<transmission id>|<transmission time>|<webhook id>|<CRC32 of the raw body, decimal>`,
 * base64-encoded in `PAYPAL-TRANSMISSION-SIG`. Pure functions; the key lives in
 * the database (see webhooks.ts).
 */
import { createPrivateKey, createPublicKey, createVerify, sign, type KeyObject } from 'node:crypto';

export const authAlgorithm = 'SHA256withRSA';

const crc32Table = (() => {
  const table = new Uint32Array(256);
  for (let index = 0; index < 256; index += 1) {
    let value = index;
    for (let bit = 0; bit < 8; bit += 1) value = value & 1 ? 0xedb88320 ^ (value >>> 1) : value >>> 1;
    table[index] = value >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE), as an unsigned integer: crc32("123456789") === 0xCBF43926. */
export function crc32(text: string | Buffer): number {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  let crc = 0xffffffff;
  for (const byte of bytes) crc = crc32Table[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export interface SignedFields {
  transmissionId: string;
  transmissionTime: string;
  webhookId: string;
  rawBody: string;
}

export function signedMessage(fields: SignedFields): string {
  return `${fields.transmissionId}|${fields.transmissionTime}|${fields.webhookId}|${crc32(fields.rawBody)}`;
}

/**
 * Parsed keys by their PEM text: parsing a PEM on every signature cost as
 * much as a third of the RSA operation. A process sees one or two keys.
 */
const parsedKeys = new Map<string, KeyObject>();

function parsedKey(pem: string, parse: (pem: string) => KeyObject): KeyObject {
  let key = parsedKeys.get(pem);
  if (!key) {
    key = parse(pem);
    if (parsedKeys.size < 16) parsedKeys.set(pem, key);
  }
  return key;
}

/**
 * Asynchronous on purpose: the RSA private-key operation runs on libuv's
 * thread pool instead of the event loop, where it took 8 % of the platform
 * process under load (the sandbox shares the process with the platform).
 */
export function signWebhook(fields: SignedFields, privateKeyPem: string): Promise<string> {
  const key = parsedKey(privateKeyPem, createPrivateKey);
  return new Promise((resolve, reject) => {
    sign('sha256', Buffer.from(signedMessage(fields), 'utf8'), key, (error, signature) => (error ? reject(error) : resolve(signature.toString('base64'))));
  });
}

/** `keyOrCertificatePem` may be the certificate served at the cert URL. */
export function webhookSignatureIsValid(fields: SignedFields, signatureBase64: string, keyOrCertificatePem: string): boolean {
  try {
    const publicKey = parsedKey(keyOrCertificatePem, (pem) => createPublicKey(pem));
    return createVerify('SHA256').update(signedMessage(fields)).verify(publicKey, signatureBase64, 'base64');
  } catch {
    return false;
  }
}
