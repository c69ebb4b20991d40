import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  decryptSecret,
  encryptSecret,
  isEnvelope,
  loadSecretKey,
  parseSecretKey,
  secretKeyFile,
} from '../../src/crypto/index.js';
import { DomainRefusal, ValidationError } from '../../src/errors.js';
import { scrubSecrets } from '../../src/secrets.js';

const HEX = '0f'.repeat(32);
const key = parseSecretKey(HEX);

describe('the credential envelope', () => {
  it('round-trips unicode with a fresh IV each time, and the ciphertext does not contain the plaintext', () => {
    const secret = 'wp-app-pa55-ünïcödé ✓';
    const a = encryptSecret(secret, key);
    const b = encryptSecret(secret, key);
    expect(isEnvelope(a)).toBe(true);
    expect(a).toMatchObject({ v: 1, alg: 'aes-256-gcm' });
    expect(a.iv).not.toBe(b.iv);
    expect(a.ct).not.toBe(b.ct);
    expect(JSON.stringify(a)).not.toContain('pa55');
    expect(decryptSecret(a, key)).toBe(secret);
    expect(decryptSecret(encryptSecret('', key), key)).toBe('');
  });

  it('refuses to decrypt with another key or after tampering', () => {
    const envelope = encryptSecret('hunter2-secret', key);
    expect(() => decryptSecret(envelope, parseSecretKey('1e'.repeat(32)))).toThrow(DomainRefusal);
    const ct = Buffer.from(envelope.ct, 'base64');
    ct[0] ^= 1;
    expect(() => decryptSecret({ ...envelope, ct: ct.toString('base64') }, key)).toThrow(/cannot decrypt/);
    expect(() => decryptSecret({ plain: 'x' }, key)).toThrow(/not an igny8 encryption envelope/);
  });

  it('registers decrypted values so no output line can carry them', () => {
    const secret = 'decrypted-Secret-4711';
    decryptSecret(encryptSecret(secret, key), key);
    expect(scrubSecrets(`value: ${secret}`)).toBe('value: ***');
  });
});

describe('IGNY8_SECRET_KEY', () => {
  const dirs: string[] = [];
  const tempDataDir = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'igny8-key-'));
    dirs.push(dir);
    return path.join(dir, 'db');
  };
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('accepts 64 hex characters or base64 of 32 bytes, nothing else, without echoing the value', () => {
    expect(parseSecretKey(HEX)).toHaveLength(32);
    expect(parseSecretKey(Buffer.alloc(32, 7).toString('base64'))).toEqual(Buffer.alloc(32, 7));
    expect(parseSecretKey(Buffer.alloc(32, 7).toString('base64url'))).toEqual(Buffer.alloc(32, 7));
    for (const bad of ['short', 'zz'.repeat(32), '0f'.repeat(31), Buffer.alloc(16).toString('base64'), 'not-a-key-but-long-enough-to-look-like-one-maybe']) {
      let error: unknown;
      try {
        parseSecretKey(bad);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as Error).message).toMatch(/^IGNY8_SECRET_KEY: must be 64 hexadecimal characters or the base64 of 32 bytes/);
      expect((error as Error).message).not.toContain(bad);
    }
  });

  it('takes the environment first', () => {
    const loaded = loadSecretKey({ kind: 'postgres', dataDir: undefined, env: { IGNY8_SECRET_KEY: HEX } });
    expect(loaded).toEqual({ key, source: 'env' });
  });

  it('refuses on a server when the key is missing, saying how to make one', () => {
    let error: unknown;
    try {
      loadSecretKey({ kind: 'postgres', dataDir: undefined, env: {} });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DomainRefusal);
    expect((error as DomainRefusal).message).toMatch(/IGNY8_SECRET_KEY is not set: it is required on a PostgreSQL server/);
    expect((error as DomainRefusal).details.join(' ')).toMatch(/openssl rand -hex 32/);
  });

  it('generates the key once beside the embedded database directory, mode 0600, and reuses it', () => {
    const dataDir = tempDataDir();
    const first = loadSecretKey({ kind: 'pglite', dataDir, env: {} });
    expect(first.source).toBe('generated');
    expect(first.file).toBe(secretKeyFile(dataDir));
    expect(path.dirname(first.file!)).toBe(path.dirname(dataDir));
    expect(statSync(first.file!).mode & 0o777).toBe(0o600);
    const second = loadSecretKey({ kind: 'pglite', dataDir, env: {} });
    expect(second).toEqual({ key: first.key, source: 'file', file: first.file });
    expect(readFileSync(first.file!, 'utf8').trim()).toBe(first.key.toString('hex'));
  });

  it('refuses a key file that holds something else', () => {
    const dataDir = tempDataDir();
    writeFileSync(secretKeyFile(dataDir), 'garbage', { mode: 0o600 });
    expect(() => loadSecretKey({ kind: 'pglite', dataDir, env: {} })).toThrow(/secret key file .* must be 64 hexadecimal/);
  });
});
