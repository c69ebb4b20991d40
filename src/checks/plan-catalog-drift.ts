// seed #5, #7: plan rows must equal the catalog fixture (free = 1,000 credits, not 100).
// The fields compared are exactly those `igny8 catalog sync` writes, so a sync clears them.
import { loadCatalog } from '../domain/catalog.js';
import { missingTables, runFindings } from './query.js';
import type { Check } from './types.js';

const FIELDS = ['name', 'price', 'billing_cycle', 'included_credits', 'max_sites', 'max_users', 'features'] as const;

export const planCatalogDrift: Check = {
  id: 'plan-catalog-drift',
  severity: 'error',
  title: 'plan rows differing from the catalog',
  remedy: 'igny8 catalog sync (or igny8 repair plan-catalog-drift)',
  repairable: true,
  async run(ctx) {
    const { schema } = ctx;
    const missing = missingTables(ctx, 'igny8_plans');
    if (missing) return missing;
    const limit = schema.sectorLimitColumn;
    const differs = [
      ...FIELDS.map((field) => `case when p.${field} is distinct from c.${field} then '${field}' end`),
      `case when p.${limit} is distinct from c.max_sectors_per_site then '${limit}' end`,
      `case when p.is_active is distinct from true then 'is_active' end`,
    ];
    const scope =
      ctx.scope.accountId === undefined
        ? ''
        : ` and c.slug in (select pp.slug from igny8_plans pp join ${schema.accountsTable} a on a.plan_id = pp.id
                            where a.id = ${Number(ctx.scope.accountId)})`;
    return runFindings(ctx, {
      sql: `select 'plan:' || c.slug as key, null as account, c.slug as sort, c.slug as plan,
                   case when p.id is null then 'missing from the database'
                        else array_to_string(array_remove(array[${differs.join(', ')}], null), ', ') end as differs,
                   p.included_credits as credits, c.included_credits as catalog_credits
              from jsonb_to_recordset(cast(? as jsonb)) as c(slug text, name text, price numeric, billing_cycle text,
                     included_credits integer, max_sites integer, max_users integer, max_sectors_per_site integer,
                     features jsonb)
              left join igny8_plans p on p.slug = c.slug
             where (p.id is null or array_length(array_remove(array[${differs.join(', ')}], null), 1) > 0)${scope}`,
      bindings: [JSON.stringify(loadCatalog().plans)],
    });
  },
};
