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
});
