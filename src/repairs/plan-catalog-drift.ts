// seed #5: plan rows drifted from the catalog (free: 100 credits where 1,000 are promised).
// The repair is `catalog sync` itself, run in the repair's transaction, with every plan,
// industry and industry sector it writes logged before and after.
import type { Knex } from 'knex';
import { syncCatalog, type CatalogChange } from '../domain/catalog.js';
import { REPAIR_LOG_TABLE } from './log.js';
import type { Repair, RepairContext, RepairKey } from './types.js';

const TABLES = ['igny8_plans', 'igny8_industries', 'igny8_industry_sectors'] as const;

function keyOf(change: CatalogChange): string {
  return `${change.entity}:${change.key}`;
}

class Rollback extends Error {}

/** What a sync would change now, found by running it in a savepoint that is rolled back. */
async function pendingChanges(trx: Knex.Transaction): Promise<CatalogChange[]> {
  let changes: CatalogChange[] = [];
  try {
    await trx.transaction(async (savepoint) => {
      changes = await syncCatalog(savepoint);
      throw new Rollback();
    });
  } catch (error) {
    if (!(error instanceof Rollback)) throw error;
  }
  return changes;
}

type Image = { table: string; id: number; row: Record<string, unknown> };

async function images(trx: Knex.Transaction): Promise<Map<string, Image>> {
  const all = new Map<string, Image>();
  for (const table of TABLES) {
    const result = await trx.raw(`select id, to_jsonb(t) as row from ${table} t`);
    for (const { id, row } of result.rows as Array<{ id: number; row: Record<string, unknown> }>) {
      all.set(`${table}:${id}`, { table, id: Number(id), row });
    }
  }
  return all;
}

export const planCatalogDrift: Repair = {
  checkId: 'plan-catalog-drift',
  action: 'catalog sync: plans, industries and industry sectors take the catalog fixture values',
  table: () => 'igny8_plans',
  batchSize: 0,
  async targets(ctx: RepairContext, keys?: RepairKey[]) {
    const found = (await pendingChanges(ctx.trx)).map(keyOf);
    return keys === undefined ? found : found.filter((key) => keys.includes(key));
  },
  async examples(ctx, keys) {
    const changes = (await pendingChanges(ctx.trx)).filter((change) => keys.includes(keyOf(change)));
    return changes.map((change) => ({
      key: keyOf(change),
      account: null,
      change:
        change.action === 'created'
          ? 'created from the catalog'
          : Object.entries(change.fields)
              .map(([field, { from, to }]) => `${field} ${JSON.stringify(from)} → ${JSON.stringify(to)}`)
              .join(', '),
    }));
  },
  async lock(ctx) {
    for (const table of TABLES) await ctx.trx.raw(`select id from ${table} order by id for update`);
  },
  async apply(ctx) {
    const before = await images(ctx.trx);
    await syncCatalog(ctx.trx);
    const after = await images(ctx.trx);
    const changed: Array<Record<string, unknown>> = [];
    for (const [key, image] of after) {
      const old = before.get(key);
      if (old && JSON.stringify(old.row) === JSON.stringify(image.row)) continue;
      changed.push({
        run_id: ctx.runId,
        check_id: ctx.checkId,
        table_name: image.table,
        row_pk: JSON.stringify({ id: image.id }),
        before: old ? JSON.stringify(old.row) : null,
        after: JSON.stringify(image.row),
      });
    }
    if (changed.length > 0) await ctx.trx(REPAIR_LOG_TABLE).insert(changed);
    const counts: Record<string, number> = {};
    for (const row of changed) counts[row.table_name as string] = (counts[row.table_name as string] ?? 0) + 1;
    return counts;
  },
};
