import { scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashPassword, needsRehash, OWASP_SCRYPT_COST, storedCost, verifyPassword } from '../../src/domain/passwords.js';

describe('password hashing (scrypt at the OWASP cost)', () => {
  it('stores a self-describing, salted hash that verifies only the right password', async () => {
    const stored = await hashPassword('Sup3r-Secret-Pa55');
    expect(stored).toMatch(/^scrypt\$17\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    expect(stored).not.toContain('Sup3r-Secret-Pa55');
    expect(stored.length).toBeLessThanOrEqual(128); // fits the users.password column
    expect(storedCost(stored)).toEqual(OWASP_SCRYPT_COST);
    expect(OWASP_SCRYPT_COST).toEqual({ log2N: 17, r: 8, p: 1 });
    // The header could claim a cost the hash was not made with: derive it independently at
    // N=2^17, r=8, p=1 from the stored salt, and it must be the stored hash.
    const [, , , , salt, hash] = stored.split('$');
    const N = 2 ** 17;
    const expected = scryptSync('Sup3r-Secret-Pa55', Buffer.from(salt, 'base64'), 32, { N, r: 8, p: 1, maxmem: 256 * N * 8 });
    expect(expected.toString('base64')).toBe(hash);
    expect(await verifyPassword('Sup3r-Secret-Pa55', stored)).toBe(true);
    expect(await verifyPassword('Sup3r-Secret-Pa56', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
    expect(needsRehash(stored)).toBe(false);
  });

  it('uses a fresh salt every time', async () => {
    const [a, b] = await Promise.all([hashPassword('Same-Passw0rd'), hashPassword('Same-Passw0rd')]);
    expect(a).not.toBe(b);
    expect(a.split('$')[4]).not.toBe(b.split('$')[4]);
  });

  it('rejects hashes that are not its own instead of throwing', async () => {
    expect(await verifyPassword('x', 'pbkdf2_sha256$260000$salt$hash')).toBe(false);
    expect(await verifyPassword('x', 'scrypt$40$8$1$AAAA$AAAA')).toBe(false);
    expect(needsRehash('pbkdf2_sha256$260000$salt$hash')).toBe(true);
    expect(needsRehash(await hashPassword('Low-Cost-1', { log2N: 10, r: 8, p: 1 }))).toBe(true);
  });

  it('verifies a hash made at another cost with the cost it records', async () => {
    const cheap = await hashPassword('Cheap-Cost-9', { log2N: 10, r: 8, p: 1 });
    expect(cheap.startsWith('scrypt$10$8$1$')).toBe(true);
    expect(await verifyPassword('Cheap-Cost-9', cheap)).toBe(true);
  });
});
