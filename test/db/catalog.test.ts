import { expect, it } from 'vitest';
import { loadCatalog, readCatalog, syncCatalog } from '../../src/domain/catalog.js';
import { migrateLatest } from '../../src/db/migrator.js';
import { describeEachDatabase } from '../helpers/databases.js';

describeEachDatabase('catalog sync', (fx) => {
  it('fixes the free plan, creates the catalog, and changes nothing the second time', async () => {
    const run = await migrateLatest(fx.db, { to: '0001_legacy_baseline' });
    expect(run.error).toBeUndefined();
    // seed #5: production has free at 100 credits.
    await fx.db.knex('igny8_plans').insert({ name: 'Free Plan', slug: 'free', included_credits: 100, max_industries: null });

    const first = await fx.db.knex.transaction((trx) => syncCatalog(trx));
    const free = first.find((change) => change.entity === 'plan' && change.key === 'free');
    expect(free).toMatchObject({
      action: 'updated',
      fields: { included_credits: { from: 100, to: 1000 }, max_industries: { from: null, to: 1 } },
    });
    const catalog = loadCatalog();
    const sectorCount = catalog.industries.reduce((n, industry) => n + industry.sectors.length, 0);
    expect(first.filter((c) => c.action === 'created')).toHaveLength(3 + catalog.industries.length + sectorCount);

    const second = await fx.db.knex.transaction((trx) => syncCatalog(trx));
    expect(second).toEqual([]);

    const view = await readCatalog(fx.db.knex);
    expect(view.plans.map((plan) => [plan.slug, plan.price, plan.included_credits, plan.max_sites, plan.max_users, plan.max_sectors_per_site])).toEqual([
      ['free', '0.00', 1000, 1, 1, 1],
      ['starter', '89.00', 1000, 1, 2, 3],
      ['growth', '139.00', 2000, 3, 3, 5],
      ['scale', '229.00', 4000, 5, 5, 0],
    ]);
    expect(view.industries.length).toBeGreaterThanOrEqual(10);
    for (const industry of view.industries) {
      expect(industry.sectors.length).toBeGreaterThanOrEqual(4);
      expect(industry.sectors.length).toBeLessThanOrEqual(6);
    }
    const technology = view.industries.find((industry) => industry.slug === 'technology');
    expect(technology?.sectors.map((sector) => sector.name)).toContain('Web Development');
  });

  it('puts back a value someone changed by hand, and only that one', async () => {
    await fx.db.knex('igny8_plans').where({ slug: 'growth' }).update({ max_sites: 9 });
    const changes = await fx.db.knex.transaction((trx) => syncCatalog(trx));
    expect(changes).toEqual([
      { entity: 'plan', key: 'growth', action: 'updated', fields: { max_sites: { from: 9, to: 3 } } },
    ]);
  });

  it('--dry-run shows the changes and writes nothing; a price change on a subscribed plan needs --yes', async () => {
    const knex = fx.db.knex;
    // Migrated to the target shape, with one active growth subscription.
    const run = await migrateLatest(fx.db);
    expect(run.error).toBeUndefined();
    const [plan] = await knex('igny8_plans').where({ slug: 'growth' }).select('id');
    const [account] = await knex('igny8_accounts')
      .insert({ name: 'Sub Co', slug: 'sub-co', plan_id: plan.id, credits: 0, status: 'active' })
      .returning('id');
    await knex('igny8_subscriptions').insert({
      account_id: account.id, plan_id: plan.id, status: 'active',
      current_period_start: knex.fn.now(), current_period_end: knex.raw(`now() + interval '1 month'`),
    });
    await knex('igny8_plans').where({ slug: 'growth' }).update({ price: '149.00', max_sites: 4 });
    await knex('igny8_plans').where({ slug: 'starter' }).update({ price: '99.00' }); // nobody subscribed

    const preview = await knex.transaction((trx) => syncCatalog(trx, undefined, { dryRun: true }));
    expect(preview).toEqual([
      { entity: 'plan', key: 'growth', action: 'updated', activeSubscriptions: 1,
        fields: { price: { from: 149, to: 139 }, max_sites: { from: 4, to: 3 } } },
      { entity: 'plan', key: 'starter', action: 'updated', fields: { price: { from: 99, to: 89 } } },
    ]);
    expect((await knex('igny8_plans').where({ slug: 'growth' }).first('price')).price).toBe('149.00');

    const refused = knex.transaction((trx) => syncCatalog(trx));
    await expect(refused).rejects.toThrow('catalog sync changes the price or credits of plans with active subscriptions: confirm with --yes');
    await expect(refused).rejects.toMatchObject({ details: expect.arrayContaining(['growth: price 149 → 139 (1 active subscriptions)']) });
    expect((await knex('igny8_plans').where({ slug: 'starter' }).first('price')).price).toBe('99.00'); // all or nothing

    const applied = await knex.transaction((trx) => syncCatalog(trx, undefined, { confirmed: true }));
    expect(applied.map((change) => change.key)).toEqual(['growth', 'starter']);
    expect((await knex('igny8_plans').where({ slug: 'growth' }).first('price')).price).toBe('139.00');
    // The current period is left as it was sold.
    const [subscription] = await knex('igny8_subscriptions').where({ account_id: account.id });
    expect(subscription.status).toBe('active');
  });
});
