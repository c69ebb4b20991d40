// Credentials at rest (seed #12): AES-256-GCM, a fresh 96-bit IV per value, stored as a small
// JSON envelope so the algorithm and format can change later without guessing.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { DomainRefusal } from '../errors.js';
import { registerSecret } from '../secrets.js';
import { SECRET_KEY_BYTES } from './secret-key.js';

export interface Envelope {
  v: 1;
  alg: 'aes-256-gcm';
  /** base64 of the 12-byte IV */
  iv: string;
  /** base64 of the 16-byte authentication tag */
  tag: string;
  /** base64 of the ciphertext */
  ct: string;
  /** The fingerprint of the key it was encrypted under (absent in envelopes of an older igny8). */
  kid?: string;
}

/**
 * A key's fingerprint: an HMAC of a fixed label under the key, never the key itself. It tells
 * which key encrypted a value, and whether two keys are the same, without revealing either.
 */
export function keyFingerprint(key: Buffer): string {
  return createHmac('sha256', key).update('igny8 credential key fingerprint v1').digest('hex').slice(0, 16);
}

function checkKey(key: Buffer): void {
  if (key.length !== SECRET_KEY_BYTES) throw new Error(`an AES-256 key is ${SECRET_KEY_BYTES} bytes, got ${key.length}`);
}

export function encryptSecret(plaintext: string, key: Buffer): Envelope {
  checkKey(key);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return {
    v: 1,
    alg: 'aes-256-gcm',
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    ct: ct.toString('base64'),
    kid: keyFingerprint(key),
  };
}

export function isEnvelope(value: unknown): value is Envelope {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    v.v === 1 &&
    v.alg === 'aes-256-gcm' &&
    typeof v.iv === 'string' &&
    typeof v.tag === 'string' &&
    typeof v.ct === 'string' &&
    (v.kid === undefined || typeof v.kid === 'string')
  );
}

/** The plaintext of an envelope; it is registered as a secret so no output line can carry it. */
export function decryptSecret(envelope: unknown, key: Buffer): string {
  checkKey(key);
  if (!isEnvelope(envelope)) throw new DomainRefusal('a stored credential is not an igny8 encryption envelope');
  let plaintext: string;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(envelope.iv, 'base64'));
    decipher.setAuthTag(Buffer.from(envelope.tag, 'base64'));
    plaintext = Buffer.concat([decipher.update(Buffer.from(envelope.ct, 'base64')), decipher.final()]).toString('utf8');
  } catch (error) {
    throw new DomainRefusal(
      'cannot decrypt a stored credential: IGNY8_SECRET_KEY is not the key it was encrypted with, or the value was altered',
      { cause: error, code: 'secret-key-mismatch' },
    );
  }
  registerSecret(plaintext);
  return plaintext;
}
