// cross-tenant-reference joins every table that points at sites with the sites once. On a
// database whose access rows already carry account_id but whose composite foreign keys are
// not there yet (the shape between migrations), an access row can cross on both sides: it is
// one finding, reported against the site's account.
import { expect, it } from 'vitest';
import type { Knex } from 'knex';
import { describeEachDatabase, prepareDatabase } from '../helpers/databases.js';
import { check, inRollback, makeAccount } from '../helpers/check-fixtures.js';

async function dropCompositeKeys(trx: Knex.Transaction): Promise<void> {
  const outcome = await check(trx, 'cross-tenant-reference');
  if (outcome.kind !== 'enforced') throw new Error(`expected the target's composite keys, got ${outcome.kind}`);
  const keys = await trx.raw(
    `select c.conname as name, t.relname as "table" from pg_constraint c join pg_class t on t.oid = c.conrelid
      where c.contype = 'f' and array_length(c.conkey, 1) = 2 and t.relname in
            ('igny8_sectors', 'igny8_site_integrations', 'igny8_invoices', 'igny8_site_user_access')`,
  );
  for (const key of keys.rows as Array<{ name: string; table: string }>) {
    await trx.raw('alter table ?? drop constraint ??', [key.table, key.name]);
  }
}

describeEachDatabase(
  'cross-tenant-reference between migrations',
  (fixture) => {
    it('reports each crossing row once, an access row crossing twice against its site', async () => {
      await inRollback(fixture.db.knex, async (trx) => {
        await dropCompositeKeys(trx);
        const a = await makeAccount(trx, { plan: 'growth', sites: 2 });
        const b = await makeAccount(trx, { plan: 'growth', sites: 2 });
        const c = await makeAccount(trx, { plan: 'growth' });
        await trx('igny8_sectors').where({ id: a.sectorIds[1] }).update({ site_id: b.siteIds[0], slug: 'moved' });
        const insertAccess = async (siteId: number, userId: number) => {
          const [row] = await trx('igny8_site_user_access')
            .insert({ account_id: a.id, site_id: siteId, user_id: userId })
            .returning('id');
          return Number((row as { id: number }).id);
        };
        const both = await insertAccess(b.siteIds[1], c.ownerId);
        const userOnly = await insertAccess(a.siteIds[1], c.ownerId);

        const outcome = await check(trx, 'cross-tenant-reference');
        if (outcome.kind !== 'ran') throw new Error(`did not run: ${outcome.kind}`);
        const rows = outcome.samples.map(({ key, account, other_account }) => ({ key, account, other_account }));
        expect(rows.sort((x, y) => x.key.localeCompare(y.key))).toEqual(
          [
            { key: `access:${both}`, account: a.slug, other_account: b.slug },
            { key: `access:${userOnly}`, account: a.slug, other_account: c.slug },
            { key: `sector:${a.sectorIds[1]}`, account: a.slug, other_account: b.slug },
          ].sort((x, y) => x.key.localeCompare(y.key)),
        );
        expect(outcome.count).toBe(3);
      });
    });
  },
  { setup: (t) => prepareDatabase(t.db, 'target') },
);
