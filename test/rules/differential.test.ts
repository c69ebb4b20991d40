// One rule, one definition, held together by a differential test: on seeded legacy databases
// (several seeds) and on planted edge cases, for every repairable rule, the repair plan
// targets exactly the rows the check reports (those it leaves are the ones it reports as left
// over), and after the repair the check finds only those, while no other check rose beyond
// the effects docs/repair.md lists.
import type { Knex } from 'knex';
import { beforeAll, expect, it } from 'vitest';
import { runAudit } from '../../src/audit/run.js';
import { findingRows } from '../../src/rules/finding.js';
import { repairableRules, RULES } from '../../src/rules/registry.js';
import { readShape } from '../../src/rules/shape.js';
import type { Rule } from '../../src/rules/types.js';
import { planRepair, runRepairs } from '../../src/repairs/run.js';
import { PLANTABLE, seedLegacy } from '../../src/seed/legacy.js';
import { makeAccount, shapeOf } from '../helpers/check-fixtures.js';
import { describeEachDatabase, type DatabaseFixture } from '../helpers/databases.js';
import { repairOptions, seedAndMigrateToGate, TEST_ENV } from '../helpers/repair-fixtures.js';
import { migrateLatest } from '../../src/db/migrator.js';

/**
 * What repairing one rule may make another rule find (docs/repair.md, "What a repair can make
 * another check find"): the rows move where they belong, and the other check judges them there.
 */
const EFFECTS: Readonly<Record<string, readonly string[]>> = {
  // An attached user is one more member of its account: it can take the account past max_users.
  'orphan-users': ['site-limit-exceeded'],
  // The catalog's limits and credits are what the limit and shortfall checks measure against.
  'plan-catalog-drift': ['signup-credit-shortfall', 'site-limit-exceeded', 'sector-limit-exceeded'],
  // A site given an industry (--default-industry) is then judged for its sectors' industries.
  'site-industry-null': ['sector-industry-mismatch'],
};

type Counts = Record<string, number>;

async function counts(knex: Knex): Promise<Counts> {
  const report = await runAudit(knex, { sample: 0 });
  return Object.fromEntries(report.checks.map((check) => [check.id, check.status === 'findings' || check.status === 'ok' ? check.count : 0]));
}

/** The targets of every row the rule finds now, and of the rows its repair would leave. */
async function findingTargets(knex: Knex, rule: Rule): Promise<Set<string>> {
  const shape = await readShape(knex);
  if (rule.verdict(shape)) return new Set();
  const rows = await findingRows(knex, rule.findings(shape), 1_000_000);
  return new Set(rows.map((row) => String(row.target)));
}

function expectRepairAgrees(fx: DatabaseFixture, label: string, defaultIndustry?: string): void {
  for (const rule of repairableRules()) {
    it(`${label}: ${rule.id}: the plan targets what the check reports; afterwards nothing else rose`, async () => {
      const knex = fx.db.knex;
      const options = repairOptions(fx.db, { defaultIndustry });
      const before = await counts(knex);
      const found = await findingTargets(knex, rule);
      const plan = await planRepair(knex, rule, options);
      const planned = new Set(plan.keys.map(String));
      // Every planned target is a finding, and every finding is planned or reported as left over.
      for (const key of planned) expect(found.has(key), `${key} is planned but not found`).toBe(true);
      expect(found.size - planned.size).toBe(plan.leftOver?.count ?? 0);
      const run = await runRepairs(fx.db, [rule.id], { ...options, apply: true });
      expect(run.failed?.error.message).toBeUndefined();
      const after = await counts(knex);
      expect(after[rule.id]).toBe(plan.leftOver?.count ?? 0);
      const allowed = new Set(EFFECTS[rule.id] ?? []);
      for (const other of RULES) {
        if (other.id === rule.id || allowed.has(other.id)) continue;
        expect(after[other.id], `${other.id} rose after repairing ${rule.id}`).toBeLessThanOrEqual(before[other.id]!);
      }
    });
  }
}

for (const seed of [3, 11, 29]) {
  describeEachDatabase(`the differential test, seed ${seed}`, (fx) => {
    beforeAll(async () => {
      await seedAndMigrateToGate(fx.db, { accounts: 150, seed, defects: [...PLANTABLE] });
    }, 120_000);
    expectRepairAgrees(fx, `seed ${seed}`, seed === 29 ? 'technology' : undefined);
  });
}

/**
 * Edge cases the seeds do not make: an empty-string secret, an empty billing email, ledger
 * rows tied in time, emails that differ only in non-ASCII case, an account without users.
 */
async function plantEdgeCases(knex: Knex): Promise<void> {
  await knex.transaction(async (trx) => {
    const shape = await shapeOf(trx);
    const secret = await makeAccount(trx);
    await trx('igny8_site_integrations').insert({
      [shape.of('igny8_site_integrations')]: secret.id,
      site_id: secret.siteIds[0],
      platform: 'custom',
      credentials_json: JSON.stringify({ api_key: '', token: 'tok-edge-1' }),
    });
    await trx('igny8_sites').where({ id: secret.siteIds[0] }).update({ wp_app_password: '', wp_url: 'https://edge.example' });
    const billing = await makeAccount(trx, { plan: 'starter' });
    await trx(shape.accounts).where({ id: billing.id }).update({ billing_email: '' });
    if (billing.invoiceId) await trx('igny8_invoices').where({ id: billing.invoiceId }).update({ billing_email: null });
    const tied = await makeAccount(trx, { grant: 1000 });
    const at = new Date('2026-01-01T00:00:00Z');
    await trx('igny8_credit_transactions').where({ id: tied.ledgerIds[0] }).update({ created_at: at });
    await trx('igny8_credit_transactions').insert([
      { [shape.of('igny8_credit_transactions')]: tied.id, transaction_type: 'adjustment', amount: 5, balance_after: 1005, description: 'tie a', created_at: at },
      { [shape.of('igny8_credit_transactions')]: tied.id, transaction_type: 'adjustment', amount: 5, balance_after: 1010, description: 'tie b', created_at: at },
    ]);
    await trx(shape.accounts).where({ id: tied.id }).update({ credits: 1013 });
    const unicode = await makeAccount(trx, { plan: 'growth', members: 1 });
    await trx('igny8_users').where({ id: unicode.ownerId }).update({ email: 'Ünïcode@Example.com' });
    await trx('igny8_users').where({ id: unicode.memberIds[0] }).update({ email: 'ünïcode@example.com' });
    const empty = await makeAccount(trx);
    if (shape.legacy) await trx(shape.accounts).where({ id: empty.id }).update({ owner_id: null });
    await trx('igny8_site_user_access').whereIn('site_id', empty.siteIds).delete();
    await trx('igny8_users').where({ [shape.of('igny8_users')]: empty.id }).delete();
  });
}

describeEachDatabase('the differential test, planted edge cases', (fx) => {
  beforeAll(async () => {
    // Planted on the legacy shape, before the first migration moves it on.
    await seedLegacy(fx.db, { accounts: 40, defectRate: 0.4, seed: 5, defects: ['orphan-users'] });
    await plantEdgeCases(fx.db.knex);
    await migrateLatest(fx.db, { env: TEST_ENV });
  }, 120_000);
  expectRepairAgrees(fx, 'edge cases', 'technology');
});
