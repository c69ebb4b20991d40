// A session lock taken through a pooler in transaction mode protects nothing: the next
// statement runs on another server connection. igny8 asks the server whether it holds the
// lock and refuses (exit 3) when it does not, instead of migrating unprotected.
import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/connect.js';
import { withAdvisoryLock } from '../../src/db/lock.js';
import { DomainRefusal } from '../../src/errors.js';

/** A server behind a transaction-mode pooler: locks are granted, then not held a statement later. */
function behindPooler(held: boolean): { db: Database; statements: string[] } {
  const statements: string[] = [];
  const connection = {
    async query(sql: string) {
      statements.push(sql.trim().split(/\s+/).slice(0, 2).join(' '));
      if (sql.includes('pg_try_advisory_lock')) return { rows: [{ ok: true }] };
      if (sql.includes('pg_locks')) return { rows: [{ held }] };
      return { rows: [] };
    },
  };
  const client = { acquireConnection: async () => connection, releaseConnection: async () => undefined };
  const db = { concurrent: true, knex: { client } } as unknown as Database;
  return { db, statements };
}

describe('advisory locks behind a connection pooler', () => {
  it('refuses, naming the pooler, when the lock is not held by the session; the work never runs', async () => {
    const { db } = behindPooler(false);
    let ran = false;
    const attempt = withAdvisoryLock(db, 'igny8.migrate', async () => {
      ran = true;
    });
    await expect(attempt).rejects.toBeInstanceOf(DomainRefusal);
    await expect(attempt).rejects.toThrow(/a connection pooler in transaction mode sits between igny8 and the database/);
    expect(ran).toBe(false);
  });

  it('runs the work when the session holds the lock', async () => {
    const { db, statements } = behindPooler(true);
    expect(await withAdvisoryLock(db, 'igny8.migrate', async () => 'done')).toBe('done');
    expect(statements).toEqual(['select pg_try_advisory_lock(hashtext($1))', 'select exists(select', 'select pg_advisory_unlock(hashtext($1))'].map((s) => s.split(/\s+/).slice(0, 2).join(' ')));
  });
});
