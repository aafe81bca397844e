/**
 * A self-signed X.509 certificate for the webhook signing key, so that the
 * `PAYPAL-CERT-URL` serves what PayPal's does (a PEM certificate) and receivers
 * can verify offline with `crypto.verify(..., certificatePem, ...)` or parse it
 * with `new X509Certificate(pem)`. Node can read certificates but not make
 * them, hence this small DER encoder.
 */
import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';

function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function der(tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

const sequence = (...contents: Buffer[]) => der(0x30, ...contents);
const set = (...contents: Buffer[]) => der(0x31, ...contents);
const nullValue = () => Buffer.from([0x05, 0x00]);
const utf8String = (text: string) => der(0x0c, Buffer.from(text, 'utf8'));
const bitString = (bytes: Buffer) => der(0x03, Buffer.from([0x00]), bytes);

function positiveInteger(bytes: Buffer): Buffer {
  // A leading 0x00 keeps the integer positive when the top bit is set.
  return der(0x02, bytes[0]! & 0x80 ? Buffer.concat([Buffer.from([0x00]), bytes]) : bytes);
}

function objectIdentifier(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split('.').map(Number);
  const bytes = [first! * 40 + second!];
  for (const component of rest) {
    const base128: number[] = [component & 0x7f];
    for (let value = component >> 7; value > 0; value >>= 7) base128.unshift((value & 0x7f) | 0x80);
    bytes.push(...base128);
  }
  return der(0x06, Buffer.from(bytes));
}

function time(date: Date): Buffer {
  const iso = date.toISOString();
  const compact = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  // RFC 5280: UTCTime through 2049, GeneralizedTime from 2050.
  return date.getUTCFullYear() < 2050 ? der(0x17, Buffer.from(compact.slice(2))) : der(0x18, Buffer.from(compact));
}

const sha256WithRsaEncryption = '1.2.840.113549.1.1.11';
const commonName = '2.5.4.3';
const organizationName = '2.5.4.10';

export interface SelfSignedCertificateInput {
  privateKeyPem: string;
  subjectCommonName: string;
  serialNumber: Buffer;
  notBefore: Date;
  notAfter: Date;
}

/** Returns the PEM of a self-signed certificate (SHA256withRSA) for the key. */
export function selfSignedCertificatePem(input: SelfSignedCertificateInput): string {
  const privateKey: KeyObject = createPrivateKey(input.privateKeyPem);
  const publicKeyDer = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const name = sequence(
    set(sequence(objectIdentifier(organizationName), utf8String('Gatehouse'))),
    set(sequence(objectIdentifier(commonName), utf8String(input.subjectCommonName))),
  );
  const signatureAlgorithm = sequence(objectIdentifier(sha256WithRsaEncryption), nullValue());
  const toBeSigned = sequence(
    der(0xa0, positiveInteger(Buffer.from([0x02]))), // version 3
    positiveInteger(input.serialNumber),
    signatureAlgorithm,
    name,
    sequence(time(input.notBefore), time(input.notAfter)),
    name,
    publicKeyDer,
  );
  const signature = sign('sha256', toBeSigned, privateKey);
  const certificateDer = sequence(toBeSigned, signatureAlgorithm, bitString(signature));
  const base64Lines = certificateDer.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${base64Lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}
