// Checksums are taken over each migration module's source text, not its compiled form, and
// `migrate validate` fails (exit 1) on a changed, unknown or skipped migration; rows written by
// an older igny8 (checksums of compiled files) are reported as such, not as drift.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { listMigrationFiles } from '../../src/db/migrations.js';
import { runCli } from '../helpers/cli.js';
import { describeEachDatabase, withTestDatabase } from '../helpers/databases.js';

const SOURCES = fileURLToPath(new URL('../../src/migrations/', import.meta.url));
const COMPILED = fileURLToPath(new URL('../../dist/migrations/', import.meta.url));

describe('migration checksums', () => {
  it('are the sha256 of each source file, whether the compiled or the source module runs', () => {
    const compiled = listMigrationFiles(COMPILED);
    const source = listMigrationFiles(SOURCES);
    expect(compiled.map((file) => file.name)).toEqual(source.map((file) => file.name));
    for (const [index, file] of compiled.entries()) {
      const text = readFileSync(path.join(SOURCES, `${file.name}.ts`), 'utf8').replace(/\r\n/g, '\n');
      expect(file.checksum).toBe(createHash('sha256').update(text).digest('hex'));
      expect(source[index]!.checksum).toBe(file.checksum);
    }
  });
});

describeEachDatabase(
  'igny8 migrate validate',
  (fx) => {
    // Lines wrap at the output width: each result reads as one line of text here.
    const joined = (text: string) => text.replace(/\n {2,}/g, ' ');
    const validate = async () => {
      const result = await runCli(['migrate', 'validate'], { env: fx.t.env });
      return { ...result, stdout: joined(result.stdout) };
    };
    const sql = (statement: string) => withTestDatabase(fx.t, (db) => db.knex.raw(statement));

    beforeAll(async () => {
      expect((await runCli(['migrate'], { env: fx.t.env })).code).toBe(0);
    });

    it('exits 0 when every applied migration is what igny8 ships', async () => {
      const result = await validate();
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/valid: \d+ applied migrations match what igny8 ships/);
    });

    it('records the checksum algorithm and igny8 version of every migration it applies', async () => {
      const rows = await withTestDatabase(fx.t, (db) => db.knex('igny8_migrations').select('checksum_algorithm', 'igny8_version'));
      const version = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;
      expect(rows.every((row) => row.checksum_algorithm === 2 && row.igny8_version === version)).toBe(true);
      expect(rows.length).toBeGreaterThan(20);
    });
    it('exits 1 naming a migration whose source changed since it was applied', async () => {
      await sql(`update igny8_migrations set checksum = repeat('0', 64) where name = '0005_plans_max_sectors_per_site'`);
      const result = await validate();
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/0005_plans_max_sectors_per_site {2}applied .*, file changed since/);
    });

    it('reports checksums of an older igny8 as not comparable, not as drift', async () => {
      await sql(`update igny8_migrations set checksum_algorithm = 1 where name = '0005_plans_max_sectors_per_site'`);
      const result = await validate();
      expect(result.code).toBe(0);
      const status = await runCli(['migrate', 'status'], { env: fx.t.env });
      expect(joined(status.stdout)).toMatch(/0005_plans_max_sectors_per_site {2}applied .*by an older igny8, whose checksum is not comparable/);
    });

    it('exits 1 on an applied migration igny8 does not know, and on one skipped in the chain', async () => {
      await sql(`insert into igny8_migrations (name, checksum) values ('9998_from_elsewhere', repeat('a', 64))`);
      const unknown = await validate();
      expect(unknown.code).toBe(1);
      expect(unknown.stdout).toMatch(/9998_from_elsewhere {2}applied, but igny8 has no migration of that name/);
      await sql(`delete from igny8_migrations where name = '9998_from_elsewhere'`);
      await sql(`delete from igny8_migrations where name = '0006_plans_fold_credits_per_month'`);
      const skipped = await validate();
      expect(skipped.code).toBe(1);
      expect(skipped.stdout).toMatch(/0006_plans_fold_credits_per_month {2}pending \(expand\), though a later expand migration is applied/);
    });

  },
  // The child processes open the database themselves: the embedded one is closed here.
  { onDisk: true, setup: (t) => (t.kind === 'pglite' ? t.db.close() : Promise.resolve()) },
);
