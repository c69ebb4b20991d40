// seed legacy: for several seeds, defect rates, layouts and shapes, the audit reports exactly
// the counts the seed planted; the data respects every foreign key (the bulk load skips their
// triggers); samples never carry the planted WordPress secrets; a non-empty database is
// refused. The arrival layout interleaves accounts in time order; a shape's means come out.
import { beforeAll, expect, it } from 'vitest';
import { runAudit } from '../../src/audit/run.js';
import { DomainRefusal, ValidationError } from '../../src/errors.js';
import { inspectSchema } from '../../src/schema/inspect.js';
import { legacyShapeDifferences } from '../../src/db/adopt.js';
import { LEGACY_FOREIGN_KEY_INDEXES } from '../../src/schema/legacy.js';
import { auditDocument } from '../../src/render/audit-json.js';
import { PLANTABLE, resolveDefects, seedLegacy, type SeedOptions, type SeedResult } from '../../src/seed/legacy.js';
import { NAMED_SHAPES, parseShape, shapeLimits } from '../../src/seed/shape.js';
import { readShape } from '../../src/rules/shape.js';
import { describeEachDatabase } from '../helpers/databases.js';
import type { Knex } from 'knex';

const COMBINATIONS: SeedOptions[] = [
  { accounts: 400, defectRate: 0.05, seed: 1 },
  { accounts: 600, defectRate: 0.3, seed: 42 },
  { accounts: 200, defectRate: 1, seed: -7 },
  { accounts: 300, defectRate: 0, seed: 5 },
  { accounts: 200, defectRate: 1, seed: -7, layout: 'arrival', shape: NAMED_SHAPES.busy },
];

async function auditCounts(knex: Knex): Promise<Record<string, number>> {
  const report = await runAudit(knex, { failOn: 'never' });
  return Object.fromEntries(report.checks.filter((c) => c.status !== 'not-applicable').map((c) => [c.id, c.count]));
}

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
  describeEachDatabase(`seed legacy ${JSON.stringify({ ...combination, shape: Object.keys(NAMED_SHAPES).find((name) => NAMED_SHAPES[name] === combination.shape) })}`, (fixture) => {
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

/** Per table: the share of rows, in heap order, whose id is below the previous row's; and of neighbours sharing an account. */
async function layoutOf(knex: Knex, table: string, account: string) {
  const result = await knex.raw(
    `select avg(case when id < before_id then 1 else 0 end) as out_of_order,
            avg(case when owner = before_owner then 1 else 0 end) as same_account
       from (select id, ${account} as owner, lag(id) over (order by ctid) as before_id,
                    lag(${account}) over (order by ctid) as before_owner
               from ${table} x) w where before_id is not null`,
  );
  return { outOfOrder: Number(result.rows[0].out_of_order), sameAccount: Number(result.rows[0].same_account) };
}

const CHILDREN: Array<[string, string]> = [
  ['igny8_users', 'tenant_id'],
  ['igny8_sites', 'tenant_id'],
  ['igny8_sectors', 'site_id'],
  ['igny8_site_user_access', 'site_id'],
  ['igny8_credit_transactions', 'tenant_id'],
];

describeEachDatabase('seed legacy --layout arrival --shape production', (fixture) => {
  let seeded: SeedResult;
  beforeAll(async () => {
    seeded = await seedLegacy(fixture.db, { accounts: 400, defectRate: 0.3, seed: 8, layout: 'arrival', shape: NAMED_SHAPES.production, shapeName: 'production' });
  });

  it('plants exactly the counts it reports', async () => {
    expect(await auditCounts(fixture.db.knex)).toEqual(seeded.planted);
    expect(await foreignKeyViolations(fixture.db.knex)).toEqual([]);
  });

  it('writes every table in id order, ids in time order, each account scattered across the heap', async () => {
    expect(seeded.layout).toBe('arrival');
    for (const [table, parent] of CHILDREN) {
      const layout = await layoutOf(fixture.db.knex, table, parent);
      // a short row may still fill the last gap of the page before: nothing more
      expect([table, layout.outOfOrder < 0.01]).toEqual([table, true]);
      // in account order nearly every neighbour shares its parent; here few do
      expect([table, layout.sameAccount < 0.2]).toEqual([table, true]);
    }
    // the ledger checks read this from the statistics: no walk through the account index here
    expect((await readShape(fixture.db.knex)).ledgerInAccountOrder).toBeUndefined();
    const time = await fixture.db.knex.raw(
      `select count(*) as n from (select created_at, lag(created_at) over (order by id) as before from igny8_credit_transactions) x
        where created_at < before`,
    );
    expect(Number(time.rows[0].n)).toBe(0);
  });

  it('gives the shape its means, with a heavy-tailed ledger whose first row per account is its grant', async () => {
    const per = (table: string) => seeded.rows[table] / seeded.accounts;
    // 30% of these accounts carry a defect and stay at their base: the rest make up for them
    expect(Math.abs(per('igny8_users') - 1.75)).toBeLessThan(0.15);
    expect(Math.abs(per('igny8_sites') - 1.5)).toBeLessThan(0.15);
    expect(Math.abs(per('igny8_sectors') - 2.6)).toBeLessThan(0.15);
    expect(per('igny8_credit_transactions')).toBeGreaterThanOrEqual(10);
    const tail = await fixture.db.knex.raw(
      `select max(n) as most, percentile_disc(0.5) within group (order by n) as median,
              count(*) filter (where first_type <> 'subscription') as not_grant_first
         from (select tenant_id, count(*) as n, (array_agg(transaction_type order by id))[1] as first_type
                 from igny8_credit_transactions group by tenant_id) x`,
    );
    const { most, median, not_grant_first: notGrantFirst } = tail.rows[0];
    expect(Number(median)).toBeLessThanOrEqual(6);
    expect(Number(most)).toBeGreaterThanOrEqual(30 * Number(median));
    expect(Number(notGrantFirst)).toBe(0);
  });
});

describeEachDatabase('seed legacy --layout ordered --shape production', (fixture) => {
  it('plants exactly the counts it reports, each account\'s ledger rows together in id order', async () => {
    const seeded = await seedLegacy(fixture.db, { accounts: 300, defectRate: 0.3, seed: 2, layout: 'ordered', shape: NAMED_SHAPES.production });
    expect(await auditCounts(fixture.db.knex)).toEqual(seeded.planted);
    expect(seeded.rows.igny8_credit_transactions / 300).toBeGreaterThanOrEqual(10);
    expect(Math.abs(seeded.rows.igny8_sectors / 300 - 2.6)).toBeLessThan(0.15);
    const layout = await layoutOf(fixture.db.knex, 'igny8_credit_transactions', 'tenant_id');
    expect(layout.outOfOrder).toBeLessThan(0.01);
    expect(layout.sameAccount).toBeGreaterThan(0.85);
    expect((await readShape(fixture.db.knex)).ledgerInAccountOrder).toBe(true);
  });
});

it('names --shape when a shape is unknown, malformed or out of the plans\' reach', () => {
  expect(parseShape(undefined)).toEqual({ name: 'lean', shape: NAMED_SHAPES.lean });
  expect(parseShape('production,ledger=30')).toEqual({ name: 'production,ledger=30', shape: { ...NAMED_SHAPES.production, ledger: 30 } });
  expect(parseShape('users=2,sites=1.6,sectors=3,ledger=20').shape).toEqual({ users: 2, sites: 1.6, sectors: 3, ledger: 20 });
  expect(() => parseShape('huge')).toThrow(/--shape.*unknown shape "huge"/);
  expect(() => parseShape('production,rows=3')).toThrow(/--shape.*users=N/);
  expect(() => parseShape('users=lots')).toThrow(ValidationError);
  expect(() => parseShape(`users=${shapeLimits().users + 1}`)).toThrow(/--shape.*users=.*out of reach/);
  expect(() => parseShape('sites=1.6,sectors=1.5')).toThrow(/--shape.*sectors=1.5.*out of reach/);
});

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
