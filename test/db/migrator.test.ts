import { expect, it } from 'vitest';
import { connect } from '../../src/db/connect.js';
import { migrateDown, migrateLatest, migrationStatus } from '../../src/db/migrator.js';
import { describeEachDatabase } from '../helpers/databases.js';
import { migrationsDir, raw, writeMigration } from '../helpers/migrations-dir.js';
import { DomainRefusal } from '../../src/errors.js';

async function tableExists(knex: import('knex').Knex, table: string): Promise<boolean> {
  const result = await knex.raw('select to_regclass(?) is not null as present', [table]);
  return result.rows[0].present as boolean;
}

describeEachDatabase('migration runner', (fx) => {
  it('applies each migration once when two runs race for the lock', async () => {
    const dir = migrationsDir({
      '0001_slow': { up: `${raw('select pg_sleep(0.3)')} ${raw('create table race_a (id int)')}` },
      '0002_counter': { up: `${raw('create table race_b (id int)')} ${raw('insert into race_b values (1)')}` },
    });
    // On a server each run gets its own connection pool, as two processes would.
    const second = fx.kind === 'postgres' ? await connect({ databaseUrl: fx.t.url }) : fx.db;
    try {
      const [one, two] = await Promise.all([
        migrateLatest(fx.db, { migrationsDir: dir }),
        migrateLatest(second, { migrationsDir: dir }),
      ]);
      const applied = [...one.results, ...two.results].filter((r) => r.status === 'applied').map((r) => r.name);
      expect(applied.sort()).toEqual(['0001_slow', '0002_counter']);
      expect(one.error ?? two.error).toBeUndefined();
      const rows = await fx.db.knex('race_b').count<{ count: number }[]>({ count: '*' });
      expect(rows[0].count).toBe(1);
    } finally {
      if (second !== fx.db) await second.close();
      await fx.db.knex.raw('drop table if exists race_a, race_b, igny8_migrations');
    }
  });

  it('leaves no trace of a failing migration and reports the later ones as not run', async () => {
    const dir = migrationsDir({
      '0001_ok': { up: raw('create table fail_a (id int)') },
      '0002_fails': { up: `${raw('create table fail_b (id int)')} ${raw('select 1/0')}` },
      '0003_later': { up: raw('create table fail_c (id int)') },
    });
    try {
      const run = await migrateLatest(fx.db, { migrationsDir: dir });
      expect(run.results.map((r) => [r.name, r.status])).toEqual([
        ['0001_ok', 'applied'],
        ['0002_fails', 'failed'],
        ['0003_later', 'not run'],
      ]);
      expect(run.error?.message).toMatch(/division by zero/);
      expect(await tableExists(fx.db.knex, 'fail_a')).toBe(true);
      expect(await tableExists(fx.db.knex, 'fail_b')).toBe(false);
      expect(await tableExists(fx.db.knex, 'fail_c')).toBe(false);
      const status = await migrationStatus(fx.db, dir);
      expect(status.map((s) => [s.name, s.state])).toEqual([
        ['0001_ok', 'applied'],
        ['0002_fails', 'pending'],
        ['0003_later', 'pending'],
      ]);
    } finally {
      await fx.db.knex.raw('drop table if exists fail_a, fail_b, fail_c, igny8_migrations');
    }
  });

  it('changes nothing on a dry run, yet reports what would be applied', async () => {
    const dir = migrationsDir({
      '0001_first': { up: raw('create table dry_a (id int)') },
      '0002_second': { up: raw('insert into dry_a values (1)') },
    });
    try {
      const run = await migrateLatest(fx.db, { migrationsDir: dir, dryRun: true });
      expect(run.results.map((r) => [r.name, r.status])).toEqual([
        ['0001_first', 'rolled back'],
        ['0002_second', 'rolled back'],
      ]);
      expect(await tableExists(fx.db.knex, 'dry_a')).toBe(false);
      const status = await migrationStatus(fx.db, dir);
      expect(status.every((s) => s.state === 'pending')).toBe(true);
    } finally {
      await fx.db.knex.raw('drop table if exists dry_a, igny8_migrations');
    }
  });

  it('names an applied migration whose file changed, with both checksums', async () => {
    const dir = migrationsDir({ '0001_table': { up: raw('create table changed_a (id int)') } });
    try {
      await migrateLatest(fx.db, { migrationsDir: dir });
      const before = await migrationStatus(fx.db, dir);
      expect(before[0].changed).toBe(false);
      writeMigration(dir, '0001_table', { up: raw('create table changed_a (id bigint)') });
      const after = await migrationStatus(fx.db, dir);
      expect(after[0]).toMatchObject({ name: '0001_table', state: 'applied', changed: true });
      expect(after[0].appliedChecksum).toBe(before[0].checksum);
      expect(after[0].checksum).not.toBe(before[0].checksum);
    } finally {
      await fx.db.knex.raw('drop table if exists changed_a, igny8_migrations');
    }
  });

  it('reverts down to a named migration, and refuses up front when one is irreversible', async () => {
    const dir = migrationsDir({
      '0001_a': { up: raw('create table down_a (id int)'), down: raw('drop table down_a') },
      '0002_b': { up: raw('create table down_b (id int)'), down: raw('drop table down_b') },
      '0003_c': { up: raw('create table down_c (id int)'), down: raw('drop table down_c') },
    });
    const irreversible = migrationsDir({
      '0001_keep': { up: raw('create table down_keep (id int)') },
    });
    try {
      await migrateLatest(fx.db, { migrationsDir: dir });
      const run = await migrateDown(fx.db, { migrationsDir: dir, to: '0001_a' });
      expect(run.results.map((r) => [r.name, r.status])).toEqual([
        ['0003_c', 'reverted'],
        ['0002_b', 'reverted'],
      ]);
      expect(await tableExists(fx.db.knex, 'down_a')).toBe(true);
      expect(await tableExists(fx.db.knex, 'down_b')).toBe(false);
      await fx.db.knex.raw('drop table down_a, igny8_migrations');

      await migrateLatest(fx.db, { migrationsDir: irreversible });
      await expect(migrateDown(fx.db, { migrationsDir: irreversible })).rejects.toBeInstanceOf(DomainRefusal);
      expect(await tableExists(fx.db.knex, 'down_keep')).toBe(true);
    } finally {
      await fx.db.knex.raw('drop table if exists down_a, down_b, down_c, down_keep, igny8_migrations');
    }
  });

  it('sets lock_timeout and statement_timeout inside each migration', async () => {
    const dir = migrationsDir({
      '0001_timeouts': {
        up: `const r = await trx.raw("select current_setting('lock_timeout') as l, current_setting('statement_timeout') as s");
             await trx.raw('create table timeouts_seen (l text, s text)');
             await trx('timeouts_seen').insert({ l: r.rows[0].l, s: r.rows[0].s });`,
      },
    });
    try {
      await migrateLatest(fx.db, { migrationsDir: dir, lockTimeout: '3s', statementTimeout: '2min' });
      const [row] = await fx.db.knex('timeouts_seen').select('l', 's');
      expect(row).toEqual({ l: '3s', s: '2min' });
    } finally {
      await fx.db.knex.raw('drop table if exists timeouts_seen, igny8_migrations');
    }
  });
});
