// seed legacy: for several seeds and defect rates, the audit reports exactly the counts the
// seed planted; the data respects every foreign key (the bulk load skips their triggers);
// samples never carry the planted WordPress secrets; a non-empty database is refused.
import { beforeAll, expect, it } from 'vitest';
import { runAudit } from '../../src/audit/run.js';
import { DomainRefusal, ValidationError } from '../../src/errors.js';
import { inspectSchema } from '../../src/schema/inspect.js';
import { legacyShapeDifferences } from '../../src/db/adopt.js';
import { LEGACY_FOREIGN_KEY_INDEXES } from '../../src/schema/legacy.js';
import { auditDocument } from '../../src/render/audit-json.js';
import { PLANTABLE, resolveDefects, seedLegacy, type SeedResult } from '../../src/seed/legacy.js';
import { describeEachDatabase } from '../helpers/databases.js';
import type { Knex } from 'knex';

const COMBINATIONS = [
  { accounts: 400, defectRate: 0.05, seed: 1 },
  { accounts: 600, defectRate: 0.3, seed: 42 },
  { accounts: 200, defectRate: 1, seed: -7 },
  { accounts: 300, defectRate: 0, seed: 5 },
];

async function foreignKeyViolations(knex: Knex): Promise<string[]> {
  const keys = await knex.raw(`
    select c.conname, t.relname as tbl, a.attname as col, r.relname as ref, ra.attname as refcol
      from pg_constraint c
      join pg_class t on t.oid = c.conrelid join pg_class r on r.oid = c.confrelid
      join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
      join pg_attribute ra on ra.attrelid = c.confrelid and ra.attnum = c.confkey[1]
     where c.contype = 'f' and t.relnamespace = to_regnamespace(current_schema())`);
  const broken: string[] = [];
  for (const key of keys.rows as Array<Record<string, string>>) {
    const result = await knex.raw(
      `select count(*) as n from ${key.tbl} x where x.${key.col} is not null
          and not exists (select 1 from ${key.ref} r where r.${key.refcol} = x.${key.col})`,
    );
    if (Number(result.rows[0].n) > 0) broken.push(`${key.conname}: ${result.rows[0].n}`);
  }
  return broken;
}

for (const combination of COMBINATIONS) {
  describeEachDatabase(`seed legacy ${JSON.stringify(combination)}`, (fixture) => {
    let seeded: SeedResult;

    beforeAll(async () => {
      seeded = await seedLegacy(fixture.db, combination);
    });

    it('builds the legacy shape and prints what it planted', async () => {
      expect(legacyShapeDifferences(await inspectSchema(fixture.db.knex))).toEqual([]);
      // the foreign-key indexes, rebuilt after the load, are all there under the baseline's names
      const indexes = await fixture.db.knex.raw(`select indexname from pg_indexes where schemaname = current_schema()`);
      const names = new Set((indexes.rows as Array<{ indexname: string }>).map((row) => row.indexname));
      for (const { table, column } of LEGACY_FOREIGN_KEY_INDEXES) expect(names).toContain(`${table}_${column}_idx`);
      expect(seeded.rows.igny8_tenants).toBe(combination.accounts);
      expect(seeded.planted['plan-catalog-drift']).toBe(1);
      const total = Object.values(seeded.planted).reduce((sum, n) => sum + n, 0);
      if (combination.defectRate === 0) expect(total).toBe(1);
      if (combination.defectRate === 1) {
        // every account carries a defect; each plantable kind shows up at this size
        for (const id of PLANTABLE) expect([id, (seeded.planted[id] ?? 0) > 0]).toEqual([id, true]);
      }
    });

    it('audit --format json reports exactly the planted counts', async () => {
      const report = await runAudit(fixture.db.knex, { failOn: 'never' });
      const document = auditDocument(report) as { checks: Array<{ id: string; status: string; count: number }> };
      const counts = Object.fromEntries(document.checks.filter((c) => c.status !== 'not-applicable').map((c) => [c.id, c.count]));
      expect(counts).toEqual(seeded.planted);
      expect(document.checks.filter((c) => c.status === 'not-applicable').map((c) => c.id).sort()).toEqual(
        [...seeded.notApplicable].sort(),
      );
    });

    it('respects every foreign key, although the bulk load skipped their triggers', async () => {
      expect(await foreignKeyViolations(fixture.db.knex)).toEqual([]);
    });

    it('never shows a planted WordPress secret or a password hash in the audit output', async () => {
      const report = await runAudit(fixture.db.knex, { sample: 1000, failOn: 'never' });
      const text = JSON.stringify(auditDocument(report));
      const secrets = await fixture.db.knex.raw(
        `select wp_app_password as s from igny8_sites where wp_app_password is not null
          union all select wp_api_key from igny8_sites where wp_api_key is not null
          union all (select password from igny8_users limit 50)`,
      );
      expect(secrets.rows.length).toBe(50 + 2 * seeded.planted['plaintext-credentials']);
      for (const { s } of secrets.rows as Array<{ s: string }>) expect(text.includes(s)).toBe(false);
    });

    it('refuses a database that is not empty', async () => {
      await expect(seedLegacy(fixture.db, combination)).rejects.toThrow(DomainRefusal);
    });
  });
}

describeEachDatabase('seed legacy --defects repairable', (fixture) => {
  it('plants only defects a repair can fix', async () => {
    const seeded = await seedLegacy(fixture.db, { accounts: 300, defectRate: 0.5, seed: 3, defects: ['repairable'] });
    for (const id of ['duplicate-emails', 'cross-tenant-reference', 'ledger-chain-broken', 'sector-limit-exceeded', 'site-limit-exceeded', 'sector-industry-mismatch']) {
      expect([id, seeded.planted[id]]).toEqual([id, 0]);
    }
    expect(seeded.planted['credit-balance-drift']).toBeGreaterThan(0);
    const report = await runAudit(fixture.db.knex, { failOn: 'never' });
    for (const check of report.checks.filter((c) => c.status !== 'not-applicable')) {
      expect([check.id, check.count]).toEqual([check.id, seeded.planted[check.id]]);
    }
  });
});

it('names --defects when a kind is unknown or cannot be planted', () => {
  expect(() => resolveDefects(['nope'])).toThrow(ValidationError);
  expect(() => resolveDefects(['subscription-plan-missing'])).toThrow(/--defects.*cannot be planted/);
  expect(resolveDefects(['repairable'])).not.toContain('duplicate-emails');
});
