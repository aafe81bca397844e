import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Password hashing with scrypt (node:crypto): N = 2^15, r = 8, p = 1, a
 * 16-byte random salt per password, 32-byte key, compared in constant time.
 * The stored form names its parameters ("scrypt$32768$8$1$salt$hash"), so
 * they can be raised later while old hashes keep verifying.
 */
export const passwordLengthMin = 12;
/** A bound on what we hash: a megabyte "password" would be a denial of service, not a password. */
export const passwordLengthMax = 256;

const cost = { N: 2 ** 15, r: 8, p: 1 } as const;
const keyLengthBytes = 32;
const saltLengthBytes = 16;

function scrypt(password: string, salt: Buffer, options: { N: number; r: number; p: number }): Promise<Buffer> {
  // 128 * N * r bytes of memory (32 MiB at our cost): raise the 32 MiB default ceiling a little.
  const scryptOptions: ScryptOptions = { ...options, maxmem: 128 * options.N * options.r * 2 };
  return new Promise((resolve, reject) =>
    scryptCallback(password.normalize('NFKC'), salt, keyLengthBytes, scryptOptions, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

export function passwordProblem(password: string): string | undefined {
  if (password.length < passwordLengthMin) return `at least ${passwordLengthMin} characters`;
  if (password.length > passwordLengthMax) return `at most ${passwordLengthMax} characters`;
  return undefined;
}

/** @example const stored = await hashPassword('correct horse battery staple'); */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(saltLengthBytes);
  const key = await scrypt(password, salt, cost);
  return ['scrypt', cost.N, cost.r, cost.p, salt.toString('base64'), key.toString('base64')].join('$');
}

/** True when `password` matches `stored`. Unknown formats never match. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt' || password.length > passwordLengthMax) return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  if (![N, r, p].every((value) => Number.isInteger(value) && value > 0) || N > 2 ** 20 || r > 32 || p > 16) return false;
  const expected = Buffer.from(parts[5], 'base64');
  const actual = await scrypt(password, Buffer.from(parts[4], 'base64'), { N, r, p });
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/**
 * A hash of a random password, verified against when the email is unknown so
 * that answering "no such user" costs the same time as a wrong password.
 */
let decoyHash: Promise<string> | undefined;
export function decoyPasswordHash(): Promise<string> {
  decoyHash ??= hashPassword(randomBytes(18).toString('base64'));
  return decoyHash;
}
