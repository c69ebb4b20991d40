// Passwords are hashed with scrypt at the OWASP parameters (N=2^17, r=8, p=1), a random
// 16-byte salt, and stored self-describing (`scrypt$17$8$1$<salt>$<hash>`) so the cost can
// be raised later without guessing how an old hash was made. Comparison is constant-time.
// Hashing takes ~100+ ms and 128 MiB: callers do it before opening a transaction.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface ScryptCost {
  /** log2 of N. */
  log2N: number;
  r: number;
  p: number;
}

/** OWASP's recommended scrypt cost. */
export const OWASP_SCRYPT_COST: ScryptCost = Object.freeze({ log2N: 17, r: 8, p: 1 });

const SALT_BYTES = 16;
const HASH_BYTES = 32;
const PREFIX = 'scrypt';

function derive(password: string, salt: Buffer, cost: ScryptCost, length: number): Promise<Buffer> {
  const N = 2 ** cost.log2N;
  // scrypt needs 128 * N * r bytes; Node's default ceiling (32 MiB) is below that at N=2^17.
  const options: ScryptOptions = { N, r: cost.r, p: cost.p, maxmem: 128 * N * cost.r + 16 * 1024 * 1024 };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, length, options, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

/** A self-describing hash of `password`. The cost may be lowered only by tests of other behaviour. */
export async function hashPassword(password: string, cost: ScryptCost = OWASP_SCRYPT_COST): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, cost, HASH_BYTES);
  return [PREFIX, cost.log2N, cost.r, cost.p, salt.toString('base64'), key.toString('base64')].join('$');
}

const STORED = /^scrypt\$(\d{1,2})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;

/** The cost a stored hash was made with, or undefined when it is not one of ours. */
export function storedCost(stored: string): ScryptCost | undefined {
  const match = STORED.exec(stored);
  if (!match) return undefined;
  return { log2N: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
}

/** True when `password` matches `stored`; false for a wrong password or a hash that is not ours. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const match = STORED.exec(stored);
  if (!match) return false;
  const cost = { log2N: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
  if (cost.log2N < 1 || cost.log2N > 24 || cost.r < 1 || cost.p < 1) return false;
  const salt = Buffer.from(match[4], 'base64');
  const expected = Buffer.from(match[5], 'base64');
  if (expected.length === 0) return false;
  const actual = await derive(password, salt, cost, expected.length);
  return timingSafeEqual(actual, expected);
}

/** True when a stored hash is weaker than the current cost (rehash at the next login). */
export function needsRehash(stored: string, cost: ScryptCost = OWASP_SCRYPT_COST): boolean {
  const current = storedCost(stored);
  return !current || current.log2N < cost.log2N || current.r < cost.r || current.p < cost.p;
}
