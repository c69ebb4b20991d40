// Each migration's declared locks (`locks`, what `migrate --plan` shows) are the locks it takes:
// every migration of the chain is run on the legacy fixture, in the order the rollout runs
// them, and pg_locks is read inside its transaction before the commit. And the lock budget of
// expand: no expand migration holds a lock that blocks reads or writes while it works through
// a table's rows (that work runs in batches of short transactions, after the brief DDL).
import { describe, expect, it } from 'vitest';
import { blocksWrites, listMigrationFiles, loadMigration, LOCK_MODES, phaseOf, type LockMode, type Migration } from '../../src/db/migrations.js';
import { JOURNAL_TABLE } from '../../src/audit/journal.js';
import { migrateLatest } from '../../src/db/migrator.js';
import { createTestDatabase, describeOnServer } from '../helpers/databases.js';
import { createLegacySchema, insertLegacyFixture, TEST_SECRET_KEY } from '../helpers/legacy-fixture.js';

const env = { IGNY8_SECRET_KEY: TEST_SECRET_KEY };
const PG_MODES = ['AccessShareLock', 'RowShareLock', 'RowExclusiveLock', 'ShareUpdateExclusiveLock', 'ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock'];

async function chain(): Promise<Array<{ name: string; migration: Migration }>> {
  const loaded = await Promise.all(listMigrationFiles().map(async (file) => ({ name: file.name, migration: await loadMigration(file) })));
  // The rollout's order: expand, then contract, each by number.
  return [...loaded.filter((m) => phaseOf(m.migration) === 'expand'), ...loaded.filter((m) => phaseOf(m.migration) === 'contract')];
}

describe('the lock budget of expand', () => {
  it('no expand migration works through a table under a lock that blocks reads or writes', async () => {
    for (const { name, migration } of await chain()) {
      expect(migration.locks, `${name} declares its locks`).toBeDefined();
      if (phaseOf(migration) !== 'expand') continue;
      for (const lock of migration.locks ?? []) {
        const long = blocksWrites(lock.mode) && lock.work !== undefined && lock.bounded === undefined;
        expect(`${name} ${lock.table}: ${long ? `${lock.work} under ${lock.mode}` : 'brief'}`).toBe(`${name} ${lock.table}: brief`);
      }
    }
  });
});

describeOnServer('declared locks match pg_locks', () => {
  it('every migration of the chain takes the locks it declares on existing tables, and no others', async () => {
    const t = await createTestDatabase('postgres');
    try {
      await createLegacySchema(t.db);
      await insertLegacyFixture(t.db.knex);
      const problems: string[] = [];
      for (const { name, migration } of await chain()) {
        if (name === '0001_legacy_baseline') continue;
        const before = await t.db.knex.raw(
          `select c.oid::text as oid, c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = current_schema() and c.relkind in ('r', 'p')`,
        );
        const existing = new Map<string, string>((before.rows as Array<{ oid: string; name: string }>).map((row) => [row.oid, row.name]));
        const held = new Map<string, number>();
        const run = await migrateLatest(t.db, {
          env,
          to: name,
          phase: phaseOf(migration),
          async beforeCommit(_name, trx) {
            const locks = await trx.raw(`select relation::text as oid, mode from pg_locks where pid = pg_backend_pid() and locktype = 'relation'`);
            for (const { oid, mode } of locks.rows as Array<{ oid: string; mode: string }>) {
              const table = existing.get(oid);
              if (table) held.set(table, Math.max(held.get(table) ?? 0, PG_MODES.indexOf(mode)));
            }
          },
        });
        expect(run.error, name).toBeUndefined();
        expect(run.results.map((r) => r.name), name).toEqual([name]);
        const declared = new Map((migration.locks ?? []).map((lock) => [lock.table, LOCK_MODES.indexOf(lock.mode)]));
        for (const [table, mode] of held) {
          if (mode === 0) continue;
          // The change journal's triggers append to it on any write to a tenant table: ROW
          // EXCLUSIVE, which blocks no reader or writer, only a schema change of the journal.
          if (table === JOURNAL_TABLE && mode === LOCK_MODES.indexOf('ROW EXCLUSIVE')) continue;
          const wanted = declared.get(table);
          if (wanted === undefined || wanted < mode) problems.push(`${name}: takes ${LOCK_MODES[mode]} on ${table}, declares ${wanted === undefined ? 'nothing' : LOCK_MODES[wanted]}`);
        }
        for (const lock of migration.locks ?? []) {
          if (!blocksWrites(lock.mode as LockMode)) continue;
          const mode = held.get(lock.table);
          if (mode !== LOCK_MODES.indexOf(lock.mode)) problems.push(`${name}: declares ${lock.mode} on ${lock.table}, takes ${mode === undefined ? 'nothing' : LOCK_MODES[mode]}`);
        }
      }
      expect(problems).toEqual([]);
    } finally {
      await t.drop();
    }
  }, 120_000);
});
