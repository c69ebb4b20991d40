// A batched migration: up() commits first, the backfill runs in batches of short transactions
// with its progress recorded, a failed (or killed) run resumes where it stopped, and a dry run
// reports the rows it would touch instead of touching them. An expand migration waits for a
// lock in short attempts, retried until --lock-timeout is spent.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { migrateDown, migrateLatest, migrationStatus, PROGRESS_TABLE } from '../../src/db/migrator.js';
import pg from 'pg';
import { createTestDatabase, describeEachDatabase, describeOnServer } from '../helpers/databases.js';
import { migrationsDir, raw } from '../helpers/migrations-dir.js';

describeEachDatabase('batched migrations', (fx) => {
  const dir = migrationsDir({ '0001_table': { phase: 'expand', up: `${raw('create table bt (id int primary key)')} ${raw('insert into bt select generate_series(1, 45)')} ${raw('create table bt_fail (x int)')}` } });
  // The batch fails while bt_fail holds a row and the batch reaches id 25: a run stopped half-way.
  writeFileSync(
    path.join(dir, '0002_backfill.js'),
    `export default {
  description: 'bt.v backfilled',
  phase: 'expand',
  async up({ trx }) { await trx.raw('alter table bt add column v int'); },
  backfills: [{
    table: 'bt',
    remaining: 'select count(*) as count from bt where v is null',
    batch: 'update bt set v = id * 2 / (case when id = 25 and exists (select 1 from bt_fail) then 0 else 1 end) where v is null and id >= ? and id < ?',
  }],
  async finish({ trx, note }) { await trx.raw('alter table bt alter column v set not null'); note('v is set everywhere'); },
};
`,
  );
  const column = async () => (await fx.db.knex.raw(`select count(*)::int as n from pg_attribute where attrelid = to_regclass('bt') and attname = 'v'`)).rows[0].n;

  it('a dry run reports the rows the backfill would touch and changes nothing', async () => {
    await migrateLatest(fx.db, { migrationsDir: dir, to: '0001_table' });
    await fx.db.knex.raw('insert into bt_fail values (1)');
    const dry = await migrateLatest(fx.db, { migrationsDir: dir, dryRun: true, batchSize: 10 });
    expect(dry.results[0].status).toBe('rolled back');
    expect(dry.results[0].notes).toContain('would touch 45 rows of bt in batches of 10 (a dry run runs no batch)');
    expect(await column()).toBe(0);
  });

  it('a run that stops mid-backfill keeps the batches done and its progress', async () => {
    const run = await migrateLatest(fx.db, { migrationsDir: dir, batchSize: 10 });
    expect(run.results[0].status).toBe('failed');
    expect(run.error?.message).toMatch(/division by zero/);
    expect(await column()).toBe(1);
    const done = await fx.db.knex.raw(`select count(*)::int as n from bt where v = id * 2`);
    expect(done.rows[0].n).toBe(20);
    const progress = await fx.db.knex(PROGRESS_TABLE).where({ name: '0002_backfill' }).first();
    expect(Number(progress.rows)).toBe(20);
    expect((await migrationStatus(fx.db, dir)).find((row) => row.name === '0002_backfill')).toMatchObject({ state: 'pending', progress: { rows: 20 } });
    await expect(migrateDown(fx.db, { migrationsDir: dir })).rejects.toMatchObject({ code: 'migration-in-progress', exitCode: 3 });
  });

  it('the rerun resumes from the progress recorded, finishes, and removes the progress', async () => {
    await fx.db.knex.raw('delete from bt_fail');
    const run = await migrateLatest(fx.db, { migrationsDir: dir, batchSize: 10 });
    expect(run.error).toBeUndefined();
    expect(run.results[0].notes).toEqual([
      'resumed: 20 rows were done by an earlier run',
      '25 rows of bt written in 3 batches of up to 10',
      'v is set everywhere',
    ]);
    const all = await fx.db.knex.raw(`select count(*)::int as n from bt where v = id * 2`);
    expect(all.rows[0].n).toBe(45);
    expect((await fx.db.knex.raw(`select to_regclass(?) is null as gone`, [PROGRESS_TABLE])).rows[0].gone).toBe(true);
    await fx.db.knex.raw('drop table if exists bt, bt_fail, igny8_migrations');
  });
});

describeOnServer('expand migrations wait for a lock in short attempts', () => {
  it('retries after 500 ms attempts until the lock is free, and gives up when --lock-timeout is spent', async () => {
    const t = await createTestDatabase('postgres');
    const holder = new pg.Client({ connectionString: t.url });
    await holder.connect();
    try {
      const dir = migrationsDir({
        '0001_table': { phase: 'expand', up: raw('create table lt (id int)') },
        '0002_alter': { phase: 'expand', up: raw('alter table lt add column v int') },
      });
      await migrateLatest(t.db, { migrationsDir: dir, to: '0001_table' });
      await holder.query('begin');
      await holder.query('lock table lt in access share mode');
      const refused = await migrateLatest(t.db, { migrationsDir: dir, lockTimeout: '2s' });
      expect(refused.error?.message).toMatch(/lock/);
      expect(refused.results[0].notes.some((note) => /rolled back and retried/.test(note))).toBe(true);
      // Released after 1.2 s: a later attempt gets the lock.
      setTimeout(() => void holder.query('rollback'), 1200);
      const run = await migrateLatest(t.db, { migrationsDir: dir, lockTimeout: '10s' });
      expect(run.error).toBeUndefined();
      expect(run.results[0].notes.filter((note) => /rolled back and retried/.test(note)).length).toBeGreaterThanOrEqual(1);
    } finally {
      await holder.end();
      await t.drop();
    }
  });
});
