// Each repair on its own: the plan counts what the audit counts, apply leaves the check at
// zero, a second run changes nothing, rows changed between plan and apply are refused with
// nothing written, --account limits a repair to one tenant, batches are bounded, and the
// log's "after" of every changed row is what the row now holds.
import { beforeAll, expect, it } from 'vitest';
import { DomainRefusal, ValidationError } from '../../src/errors.js';
import { findRule, REPAIRABLE_IDS, resolveRepairIds } from '../../src/rules/registry.js';
import { applyRepair, planRepair, runRepairs } from '../../src/repairs/run.js';
import { describeEachDatabase } from '../helpers/databases.js';
import { decryptSecret } from '../../src/crypto/index.js';
import { checkCount, repairOptions, seedAndMigrateToGate, TEST_KEY } from '../helpers/repair-fixtures.js';
import { all, count } from '../helpers/sql.js';

const LOG = 'igny8_repair_log';

describeEachDatabase('repairs one by one', (fixture) => {
  // A legacy database stopped at the first gated migration, with drift enough to repair.
  beforeAll(async () => {
    const seeded = await seedAndMigrateToGate(fixture.db, { accounts: 120, seed: 8 });
    expect(seeded.planted['credit-balance-drift']).toBeGreaterThan(2);
    expect(await count(fixture.db.knex, LOG)).toBe(0);
  });

  it('--account limits a repair to that account', async () => {
    const { db } = fixture;
    const plan = await planRepair(db.knex, findRule('credit-balance-drift')!, repairOptions(db));
    const target = Number(plan.keys[0]);
    const before = await checkCount(db.knex, 'credit-balance-drift');
    const scoped = await runRepairs(db, ['credit-balance-drift'], { ...repairOptions(db, { accountId: target }), apply: true });
    expect(scoped.items[0].outcome?.repaired).toBe(1);
    expect(await checkCount(db.knex, 'credit-balance-drift')).toBe(before - 1);
    const logged = await all<{ account_id: number }>(db.knex, `select (after->>'account_id')::bigint as account_id from ${LOG}`);
    expect(logged.map((row) => Number(row.account_id))).toEqual([target]);
  });

  it('refuses, writing nothing, when a new row appears between plan and apply', async () => {
    const { db } = fixture;
    const repair = findRule('orphan-users')!;
    const plan = await planRepair(db.knex, repair, repairOptions(db));
    expect(plan.keys.length).toBeGreaterThan(0);
    const users = await count(db.knex, 'igny8_users', 'account_id is null');
    const logged = await count(db.knex, LOG);
    await db.knex.raw(`insert into igny8_users (email, password, role) values ('late.orphan@example.com', 'x', 'owner')`);
    const refusal = await applyRepair(db.knex, plan, repairOptions(db), 'a0000000-0000-4000-8000-000000000001').catch((error) => error);
    expect(refusal).toBeInstanceOf(DomainRefusal);
    expect(refusal.exitCode).toBe(3);
    expect(refusal.message).toMatch(/orphan-users: the rows to repair changed since they were counted \(planned \d+, now \d+\); nothing was written/);
    expect(await count(db.knex, 'igny8_users', 'account_id is null')).toBe(users + 1);
    expect(await count(db.knex, LOG)).toBe(logged);
  });

  it('refuses, writing nothing, when a planned row was fixed by someone else in between', async () => {
    const { db } = fixture;
    const plan = await planRepair(db.knex, findRule('credit-balance-drift')!, repairOptions(db));
    const [victim] = plan.keys;
    const ledger = await count(db.knex, 'igny8_credit_transactions');
    // Someone puts the balance back to what the ledger says.
    await db.knex.raw(
      `update igny8_accounts a set credits = (select coalesce(sum(amount), 0) from igny8_credit_transactions l where l.account_id = a.id)
        where a.id = ?`,
      [victim],
    );
    await expect(applyRepair(db.knex, plan, repairOptions(db), 'a0000000-0000-4000-8000-000000000002')).rejects.toThrow(
      /gone or already fixed|planned \d+, now \d+/,
    );
    expect(await count(db.knex, 'igny8_credit_transactions')).toBe(ledger);
  });

  it('site-industry-null: infers from sectors, and sets a default only when --default-industry names one', async () => {
    const { db } = fixture;
    const [site] = await all<{ id: number; account_id: number }>(db.knex, 'select id, account_id from igny8_sites order by id limit 1');
    const [lonely] = await all<{ id: number }>(
      db.knex,
      `insert into igny8_sites (account_id, name, slug, description, status) values (?, 'No sectors', 'no-sectors-here', '', 'active') returning id`,
      [site.account_id],
    );
    const plain = await runRepairs(db, ['site-industry-null'], { ...repairOptions(db), apply: true });
    expect(plain.items[0].plan.leftOver?.count).toBe(1);
    expect(plain.items[0].plan.leftOver?.reason).toMatch(/--default-industry SLUG/);
    expect(await count(db.knex, 'igny8_sites', 'industry_id is null')).toBe(1);
    const flagged = await runRepairs(db, ['site-industry-null'], { ...repairOptions(db, { defaultIndustry: 'technology' }), apply: true });
    expect(flagged.items[0].outcome?.repaired).toBe(1);
    const [row] = await all<{ slug: string }>(
      db.knex,
      'select i.slug from igny8_sites s join igny8_industries i on i.id = s.industry_id where s.id = ?',
      [lonely.id],
    );
    expect(row.slug).toBe('technology');
  });

  it('plaintext-credentials: an existing integration keeps its values; the legacy ones stay in the log, secrets encrypted', async () => {
    const { db } = fixture;
    const secret = 'wp-app-pa55-ünïcödé';
    const [site] = await all<{ id: number; account_id: number }>(db.knex, 'select id, account_id from igny8_sites order by id limit 1');
    const [legacy] = await all<{ id: number }>(
      db.knex,
      `insert into igny8_sites (account_id, name, slug, description, status, industry_id, wp_url, wp_username, wp_app_password)
       select ?, 'Legacy WP', 'legacy-wp', '', 'active', id, 'https://legacy.example.com', 'legacy-user', ? from igny8_industries limit 1
       returning id`,
      [site.account_id, secret],
    );
    await db.knex.raw(
      `insert into igny8_site_integrations (account_id, site_id, platform, config_json, credentials_json)
       values (?, ?, 'wordpress', '{"url": "https://new.example.com"}', '{"username": "new-user"}')`,
      [site.account_id, legacy.id],
    );
    const run = await runRepairs(db, ['plaintext-credentials'], { ...repairOptions(db, { accountId: site.account_id }), apply: true });
    expect(run.failed).toBeUndefined();
    const [integration] = await all<{ config_json: Record<string, unknown>; credentials_json: Record<string, unknown> }>(
      db.knex,
      `select config_json, credentials_json from igny8_site_integrations where site_id = ? and platform = 'wordpress'`,
      [legacy.id],
    );
    const key = Buffer.from(TEST_KEY, 'hex');
    expect(integration.config_json.url).toBe('https://new.example.com');
    expect(integration.credentials_json.username).toBe('new-user');
    expect(decryptSecret(integration.credentials_json.app_password, key)).toBe(secret);
    const [logged] = await all<{ before: Record<string, unknown>; after: Record<string, unknown> }>(
      db.knex,
      `select before, after from ${LOG} where table_name = 'igny8_sites' and (row_pk->>'id')::bigint = ?`,
      [legacy.id],
    );
    expect(logged.before.wp_url).toBe('https://legacy.example.com');
    expect(logged.before.wp_username).toBe('legacy-user');
    expect(decryptSecret(logged.before.wp_app_password, key)).toBe(secret);
    expect(logged.after.wp_app_password).toBeNull();
    expect(JSON.stringify(await all(db.knex, `select before, after from ${LOG}`))).not.toContain(secret);
  });

  it('plaintext-credentials: an empty string under a secret name is no secret, neither planned nor touched', async () => {
    const { db } = fixture;
    const [site] = await all<{ id: number; account_id: number }>(
      db.knex,
      `insert into igny8_sites (account_id, name, slug, description, status, industry_id)
       select a.id, 'Empty secret', 'empty-secret', '', 'active', i.id
         from (select account_id as id from igny8_sites order by id limit 1) a cross join (select id from igny8_industries limit 1) i
       returning id, account_id`,
    );
    const [integration] = await all<{ id: number }>(
      db.knex,
      `insert into igny8_site_integrations (account_id, site_id, platform, credentials_json)
       values (?, ?, 'custom', '{"username": "someone", "api_key": "", "token": ""}') returning id`,
      [site.account_id, site.id],
    );
    const run = await runRepairs(db, ['plaintext-credentials'], { ...repairOptions(db, { accountId: site.account_id }), apply: true });
    expect(run.failed).toBeUndefined();
    expect(run.items[0].plan.keys).not.toContain(`integration:${integration.id}`);
    const [after] = await all<{ credentials_json: Record<string, unknown> }>(
      db.knex,
      'select credentials_json from igny8_site_integrations where id = ?',
      [integration.id],
    );
    expect(after.credentials_json).toEqual({ username: 'someone', api_key: '', token: '' });
    expect(await count(db.knex, LOG, `table_name = 'igny8_site_integrations' and (row_pk->>'id')::bigint = ?`, [integration.id])).toBe(0);
  });

  for (const id of REPAIRABLE_IDS) {
    it(`${id}: the plan counts what the audit finds; apply leaves zero; a second run changes nothing`, async () => {
      const { db } = fixture;
      const found = await checkCount(db.knex, id);
      const repair = findRule(id)!;
      const plan = await planRepair(db.knex, repair, repairOptions(db));
      if (plan.notApplicable) {
        expect(found).toBe(-1);
        return;
      }
      expect(plan.keys.length).toBe(found);
      const first = await runRepairs(db, [id], { ...repairOptions(db, { batchSize: 3 }), apply: true });
      expect(first.failed).toBeUndefined();
      expect(first.items[0].outcome?.repaired).toBe(found);
      expect(first.items[0].outcome?.batches).toBe(repair.repair?.batchSize === 0 ? Math.min(found, 1) : Math.ceil(found / 3));
      expect(await checkCount(db.knex, id)).toBe(0);
      const logged = await count(db.knex, LOG);
      const second = await runRepairs(db, [id], { ...repairOptions(db), apply: true });
      expect(second.items[0].outcome?.repaired ?? 0).toBe(0);
      expect(await count(db.knex, LOG)).toBe(logged);
    });
  }

  it('owner-role-mismatch: the swap migration 0009 would make, the previous roles archived under its name', async () => {
    const { db } = fixture;
    const [account] = await all<{ id: number; owner_id: number; member: number; role: string }>(
      db.knex,
      `select a.id, a.owner_id, m.id as member, m.role from igny8_accounts a
         join igny8_users o on o.id = a.owner_id and o.account_id = a.id and o.role = 'owner'
         join igny8_users m on m.account_id = a.id and m.role <> 'owner'
        order by a.id, m.id limit 1`,
    );
    await db.knex.raw('update igny8_accounts set owner_id = ? where id = ?', [account.member, account.id]);
    expect(await checkCount(db.knex, 'owner-role-mismatch')).toBe(1);
    const run = await runRepairs(db, ['owner-role-mismatch'], { ...repairOptions(db), apply: true });
    expect(run.items[0].outcome?.written).toEqual({ igny8_users: 2, igny8_legacy_values: 2 });
    const roles = await all<{ id: number; role: string }>(db.knex, 'select id, role from igny8_users where id in (?, ?) order by id', [
      account.owner_id,
      account.member,
    ]);
    expect(Object.fromEntries(roles.map((row) => [Number(row.id), row.role]))).toEqual({
      [account.owner_id]: 'admin',
      [account.member]: 'owner',
    });
    const archived = await all<{ row_id: number; legacy: Record<string, unknown> }>(
      db.knex,
      `select row_id, legacy from igny8_legacy_values
        where migration = '0009_owner_into_roles' and table_name = 'igny8_users' and row_id in (?, ?) order by row_id`,
      [account.owner_id, account.member],
    );
    expect(Object.fromEntries(archived.map((row) => [Number(row.row_id), row.legacy]))).toEqual({
      [account.owner_id]: { role: 'owner' },
      [account.member]: { role: account.role },
    });
    expect(await checkCount(db.knex, 'owner-role-mismatch')).toBe(0);
  });

  it('the log holds before and after of every changed row, and "after" is what each row holds now', async () => {
    const { db } = fixture;
    const rows = await all<{ table_name: string; id: number; before: unknown; after: Record<string, unknown> }>(
      db.knex,
      `select distinct on (table_name, row_pk) table_name, (row_pk->>'id')::bigint as id, before, after
         from ${LOG} order by table_name, row_pk, id desc`,
    );
    expect(rows.length).toBeGreaterThan(50);
    const updates = await all<{ n: number }>(db.knex, `select count(*)::int as n from ${LOG} where before is not null and before = after`);
    expect(updates[0].n).toBe(0);
    const secret = new Set(['password', 'wp_app_password', 'wp_api_key', 'credentials_json']);
    for (const row of rows) {
      expect(row.after).not.toBeNull();
      const [current] = await all<{ image: Record<string, unknown> }>(db.knex, `select to_jsonb(t) as image from ${row.table_name} t where id = ?`, [
        row.id,
      ]);
      const strip = (image: Record<string, unknown>) => Object.fromEntries(Object.entries(image).filter(([key]) => !secret.has(key)));
      expect({ table: row.table_name, row: strip(current.image) }).toEqual({ table: row.table_name, row: strip(row.after) });
    }
    const runs = await all<{ run_id: string }>(db.knex, `select distinct run_id::text from ${LOG}`);
    expect(runs.length).toBeGreaterThan(1);
  });

  it('refuses checks without a repair (exit 3) and unknown ids (exit 2)', () => {
    for (const id of ['duplicate-emails', 'sector-industry-mismatch', 'sector-limit-exceeded', 'site-limit-exceeded', 'ledger-chain-broken', 'subscription-plan-drift', 'cross-tenant-reference']) {
      let error: unknown;
      try {
        resolveRepairIds([id], false);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(DomainRefusal);
      expect((error as DomainRefusal).message).toContain('a person decides');
      expect((error as DomainRefusal).details.join('\n')).toContain(`igny8 audit --check ${id}`);
    }
    expect(() => resolveRepairIds(['no-such-check'], false)).toThrow(ValidationError);
    expect(resolveRepairIds(['multiple-owners', 'orphan-users'], false)).toEqual(['orphan-users', 'multiple-owners']);
  });
});
